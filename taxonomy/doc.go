// Package taxonomy ships the IAB Tech Lab Content Taxonomy 3.0 as data and
// looks its categories up: the content categories a placement carries
// (admeter.Placement.Categories), from which audience insight infers
// interests.
//
// The data, content-3.0.tsv, is embedded in the binary. It is the IAB Tech
// Lab Content Taxonomy 3.0, © IAB Technology Laboratory, Inc.
// (https://iabtechlab.com/standards/content-taxonomy/), used under the
// Creative Commons Attribution 3.0 License (CC BY 3.0,
// https://creativecommons.org/licenses/by/3.0/). admeter converted it to a
// table, derived each tier from the parent chain, and added Simplified
// Chinese names for the Tier-1 categories, which are admeter's, not IAB Tech
// Lab's. The file's header records the source and the changes.
//
// Category ids are strings: most are numbers ("1" Automotive, "483"
// Sports), newer ones are six characters ("JLBCU7" Entertainment), and they
// are case-sensitive. Besides content categories the taxonomy has Sensitive
// Topics, descriptive vectors (content form, purpose, source) and brand
// suitability tiers; Category.Type says which, and Category.SCD carries the
// source's flag for categories that may reveal sensitive personal data
// (health, religion and the like). Package data is read once, on first use,
// and is immutable: every function is safe for concurrent use.
package taxonomy
