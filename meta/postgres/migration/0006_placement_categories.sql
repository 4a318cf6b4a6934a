-- A placement's IAB Content Taxonomy category ids (admeter.Placement.
-- Categories) as a JSON array of strings, e.g. ["483","1"]. A placement
-- created before this migration has '[]': no categories.
ALTER TABLE placements ADD COLUMN categories jsonb NOT NULL DEFAULT '[]'
	CHECK (jsonb_typeof(categories) = 'array');
