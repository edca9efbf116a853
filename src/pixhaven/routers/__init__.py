"""One thin router per API surface; the logic lives in pixhaven.services."""
