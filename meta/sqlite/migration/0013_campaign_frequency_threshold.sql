-- A campaign's frequency threshold (admeter.Campaign.FrequencyThreshold):
-- impressions per user beyond which further impressions are frequency
-- waste, 1 to 1000, or 0 for admeter's default. A campaign created before
-- this migration has 0: the default.
ALTER TABLE campaigns ADD COLUMN frequency_threshold INTEGER NOT NULL DEFAULT 0
	CHECK (typeof(frequency_threshold) = 'integer' AND frequency_threshold BETWEEN 0 AND 1000);
