-- A campaign's attribution settings (admeter.Attribution) as a JSON object:
-- {"default": {"click_days": 7, "view_days": 1}, "by_type": {"order": {...}},
-- "click_id_param": "..."}, every member optional. A campaign created before
-- this migration has '{}': the default settings.
ALTER TABLE campaigns ADD COLUMN attribution TEXT NOT NULL DEFAULT '{}'
	CHECK (json_valid(attribution) AND json_type(attribution) = 'object');
