// Package mediaplan recommends how to reallocate a campaign's budget across
// its placements (or media) and which frequency cap to set, to maximise the
// users reached at an effective frequency for the same spend, from the
// reach and frequency that the store measured (store.ReachSets) and the
// placements' prices. Fit builds the reach model, Model.Predict uses it,
// and Recommend plans; every recommendation comes with its numbers, a
// reason per unit in English and Chinese, and the assumptions it rests on.
//
// # The reach model of one unit
//
// A unit (a placement or a medium) has measured reach R, impressions I
// (with a user) and frequency distribution f_1 … f_20 (f_20: 20 or more).
// Each person of a universe of N people sees the unit's ad X times, X
// following the negative binomial distribution (NBD, Ehrenberg) of mean m
// and shape k:
//
//	P(X = 0) = (1 + m/k)^-k,  P(X = x) = P(X = x-1) · (k+x-1)/x · (m/k)/(1+m/k)
//	reach    = N · (1 − (1 + m/k)^-k)
//
// The fit reproduces the two best-measured numbers of the zero-truncated
// distribution exactly: the mean among the reached, I/R = m / P(X > 0), and
// the share seen once, f_1/R = P(X = 1) / P(X > 0). For each k the mean
// fixes m (the truncated mean rises with m; bisection in log space); the
// share seen once falls as k rises, so k is found by bisection over
// [10^-3, 10^3]; then N = R / P(X > 0). Fit.Check compares the predicted and
// observed shares at exactly 2, exactly 3 and 5 or more.
//
// Degenerate cases: a unit whose users were all seen once is fitted as if
// half an impression more were seen (its reach then grows almost linearly
// with impressions); a unit with fewer than 50 users takes the median k of
// the others (or 1); a unit with no users reaches no one. A unit with more
// users seen once than any NBD gives (k at its lower bound) is refitted as
// an NBD plus z one-off users — identifiers never seen again, such as
// browsers that refuse cookies — whose number grows in proportion to the
// impressions: z is chosen so that the NBD fitted to the rest (mean and
// share seen once) also reproduces the share seen twice. On simulated
// traffic this is what makes the 3+ reach right (see the holdout below).
//
// Scaling a unit's impressions by s scales m by s over the same N and k
// (and the one-off users by s). A frequency cap c per user over the range
// makes the unit serve min(X, c): to deliver impressions I' under the cap
// the model solves N · E[min(X_m', c)] = I' for m' (reach rises for the same
// impressions), and a cap can deliver at most 99 % of N · c.
//
// # Combining units
//
// Units reach people independently within an effective universe U (the
// Sainsbury formula), U fitted so that the model reproduces the measured
// deduplicated reach exactly at the current allocation:
//
//	U · (1 − Π (1 − R_i/U)) = R_union,  max R_i ≤ U
//
// The left side rises with U, from max R_i towards Σ R_i; when the units do
// not overlap (R_union = Σ R_i, or a single unit) U stands for infinity
// (Model.Overlap is false). Each unit's per-person distribution in U is
// 1 − R_i/U at zero and its zero-truncated distribution times R_i/U
// elsewhere; the distributions are convolved (independence) and truncated at
// 20+, giving reach at each level k+. If a unit grows beyond U, U grows to
// its reach. Model.MeasuredAtLeast and PredictedAtLeast compare the union's
// k+ reach at the current allocation, a diagnostic of the independence
// assumption (1+ matches by construction).
//
// # The optimiser
//
// Only CPM and CPC units with a price and a positive cost move budget (for
// CPC a constant click-through rate makes cost proportional to
// impressions); CPD, fixed-price, free, unpriced and mixed units keep their
// delivery and say why. For each candidate cap (applied to every movable
// unit) the movable budget is allocated greedily from zero in steps of 1 %
// to the unit with the best marginal gain in reach at the effective
// frequency per yuan, each unit within MaxScale times its measured
// impressions (and what the cap lets it deliver). The result, and the
// current allocation under that cap, are refined by moving budget from the
// unit that loses least to the unit that gains most while the model's reach
// rises, halving the step when it does not. The best over the caps is
// recommended unless it beats the current allocation by less than
// NoiseShare (0.5 %), in which case the plan says to keep it.
//
// # Validation
//
// TestHoldout loads 14 days of simulated traffic (package simulate, one
// campaign, 8 placements on 5 media, about 300,000 events) into a DuckDB
// store, fits on days 1–10 and predicts days 1–14 at their measured
// impressions. Measured errors: placement reach 0.7 % at most (reach linear
// in impressions: 14.7 %), union reach 0.6 % (linear: 21.4 %), 3+ reach
// 2.1 % (linear: 6.7 %).
package mediaplan
