package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/internal/metajson"
)

// PlacementCategories returns the content categories of every placement
// that has any, across the campaigns of every tenant: the map from
// placement to IAB Content Taxonomy ids that audience insight needs to
// infer interests platform-wide. A placement without categories is absent.
// Like AllCampaigns it is not scoped to a tenant: what it returns may feed
// only aggregates that cross tenants, never an answer about another tenant's
// campaigns.
func (db *DB) PlacementCategories(ctx context.Context) (map[admeter.PlacementID][]string, error) {
	out := make(map[admeter.PlacementID][]string)
	err := db.view(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, categories::text FROM placements WHERE categories <> '[]'::jsonb`)
		if err != nil {
			return fmt.Errorf("query placement categories: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, cats string
			if err := rows.Scan(&id, &cats); err != nil {
				return fmt.Errorf("scan placement categories: %w", err)
			}
			ids, err := metajson.DecodeCategories(cats)
			if err != nil {
				return fmt.Errorf("placement %s: %w", id, err)
			}
			if ids != nil {
				out[admeter.PlacementID(id)] = ids
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("list placement categories", err)
	}
	return out, nil
}
