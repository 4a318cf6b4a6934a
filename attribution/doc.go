// Package attribution decides which impression or click, if any, led to
// each of a tenant's conversions. It is pure: it reads what
// store.Store.Attribution returns and the campaigns' attribution settings,
// and does no I/O.
//
// The rules, over all the tenant's campaigns at once (a conversion belongs
// to its tenant, not to a campaign; the rules decide which campaign wins
// it):
//
//  1. A conversion that reports a click id is attributed to the click that
//     carries that click id, when the click is at or before the conversion
//     and within the click window of the click's campaign for the
//     conversion's type.
//  2. Otherwise it is attributed to the user's last click at or before the
//     conversion that lies within the click window of that click's
//     campaign for the conversion's type (post-click).
//  3. Otherwise to the user's last impression at or before the conversion
//     that lies within the view window of that impression's campaign for
//     the conversion's type (post-view).
//  4. Otherwise it is unattributed.
//
// A touch lies within a window when the conversion is at most the window
// after it: the boundary is inclusive, so a click exactly 7 days before a
// conversion is within a 7-day window, and a touch at the very instant of
// the conversion is within any window that is not 0. A window of 0 days
// turns that path off. A conversion without a user (a click id only) can
// be attributed by rule 1 alone.
//
// Each campaign's rule for a conversion type is its Attribution.Rule(type):
// the type's own rule, else the campaign's default, else 7 days for
// clicks and 1 day for impressions. A touch of a campaign the rules
// function does not know (a deleted campaign, another tenant's) is
// ignored.
//
// Ties between touches at the same instant are broken deterministically: a
// click before an impression (rules 2 and 3 already prefer clicks), then
// the lower campaign id, then the lower placement id.
package attribution
