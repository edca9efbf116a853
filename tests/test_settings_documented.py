"""Every setting is read from the environment variable README.md documents.

A Settings field `max_upload_bytes` is read by `Settings.from_env` from `MAX_UPLOAD_BYTES`
and has its row in README.md's configuration table (`| name | default | meaning |`).
"""

import dataclasses
import re
from pathlib import Path

from pixhaven.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


class RecordingEnv:
    """An env without any variable, that notes every name asked of it."""

    def __init__(self):
        self.asked: set[str] = set()

    def __getattr__(self, name: str):
        self.asked.add(name)
        return None


def documented_names() -> set[str]:
    """The backticked names in the first column of README's configuration table."""
    lines = README.read_text().splitlines()
    start = lines.index("| name | default | meaning |")
    names = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        names.update(re.findall(r"`([A-Z0-9_]+)`", line.split("|")[1]))
    return names


def variable_names() -> set[str]:
    return {field.name.upper() for field in dataclasses.fields(Settings)}


def test_each_setting_is_read_from_its_upper_cased_name():
    env = RecordingEnv()
    assert Settings.from_env(env) == Settings()  # nothing set: every default
    assert env.asked == variable_names()


def test_each_setting_is_documented_in_the_readme():
    assert variable_names() - documented_names() == set()


def test_settings_follow_the_env_values_not_the_env_object():
    """from_env reuses parsed settings for the same values: a changed value is read anew."""
    env = RecordingEnv()
    env.MAX_UPLOAD_BYTES = "1000"
    first = Settings.from_env(env)
    assert first.max_upload_bytes == 1000 and Settings.from_env(env) is first
    env.MAX_UPLOAD_BYTES = "2000"
    assert Settings.from_env(env).max_upload_bytes == 2000
