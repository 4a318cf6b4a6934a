package rights_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/admeter/admeter"
	"github.com/admeter/admeter/rights"
)

// doneOrder returns the requests in the order the audit record says they
// were carried out.
func (h *harness) doneOrder() []string {
	var ids []string
	for _, e := range h.auditEntries() {
		if e.Action == "rights.request.done" {
			ids = append(ids, e.Target)
		}
	}
	return ids
}

// TestProcessOrder: guardians' requests about minors are carried out
// first, across tenants, then the others oldest first.
func TestProcessOrder(t *testing.T) {
	h := newHarness(t, func(c *rights.Config) {
		// Each reading of the clock moves it a millisecond, so that
		// completion times show the order. Only this test's goroutine
		// reads it.
		var n time.Duration
		c.Now = func() time.Time { n++; return start.Add(n * time.Millisecond) }
	})
	a, b := h.tenant("A"), h.tenant("B")
	oldest, _ := h.submit(a, oaid("delete", victim))
	older, _ := h.submit(b, oaid("access", bystander))
	minor, _ := h.submit(b, rights.Submission{Type: "delete", IDType: "oaid", ID: other, Minor: true})
	newest, _ := h.submit(a, rights.Submission{Type: "access", IDType: "idfa", ID: idfa})
	minor2, _ := h.submit(a, rights.Submission{Type: "access", IDType: "oaid", ID: other, Minor: true})
	h.process(5)

	want := []string{minor.ID, minor2.ID, oldest.ID, older.ID, newest.ID}
	if got := h.doneOrder(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("carried out in the order %v, want %v (minors first, then oldest first)", got, want)
	}
	var prev time.Time
	for i, id := range want {
		tn := a
		if id == older.ID || id == minor.ID {
			tn = b
		}
		r := h.get(tn, id)
		if r.Status != admeter.RequestDone || !r.Completed.After(prev) || !r.Completed.After(r.Received) {
			t.Errorf("request %d: status %s, completed %v after %v", i, r.Status, r.Completed, prev)
		}
		prev = r.Completed
	}
}

// TestProcessFailure: a request that cannot be carried out now keeps its
// place with the error recorded, the others go on, and the next round
// finishes it.
func TestProcessFailure(t *testing.T) {
	h := newHarness(t, nil)
	tn := h.tenant("A")
	h.insert(h.ev(tn, "10000001", victim, 1, start.Add(-time.Hour)))
	del, _ := h.submit(tn, oaid("delete", victim))
	h.clock.Add(time.Minute)
	acc, _ := h.submit(tn, oaid("access", bystander))

	h.pipe.failDrain.Store(1)
	n, err := h.svc.ProcessOpen(t.Context())
	if n != 1 || err == nil || !strings.Contains(err.Error(), del.ID) || !strings.Contains(err.Error(), "wait for logged events to load") {
		t.Fatalf("ProcessOpen with the pipeline down = %d, %v; want 1 and the delete request's error", n, err)
	}
	if r := h.get(tn, del.ID); r.Status != admeter.RequestProcessing || !strings.Contains(r.Error, "injected failure") || !r.Completed.IsZero() {
		t.Errorf("failed request: status %s, error %q", r.Status, r.Error)
	}
	if r := h.get(tn, acc.ID); r.Status != admeter.RequestDone {
		t.Errorf("the request behind the failed one: status %s", r.Status)
	}
	if evs, _, _ := h.store.UserEvents(t.Context(), tn, []admeter.Pseudonym{h.user(victim, 1)}, 10); len(evs) != 1 {
		t.Errorf("events deleted before the logged ones were loaded: %d left", len(evs))
	}

	h.process(1)
	r := h.get(tn, del.ID)
	if r.Status != admeter.RequestDone || r.Error != "" || r.Outcome.Events != 1 {
		t.Errorf("retried request: status %s, error %q, outcome %+v", r.Status, r.Error, r.Outcome)
	}

	// A cancelled round stops at once.
	h.submit(tn, oaid("access", other))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if n, err := h.svc.ProcessOpen(ctx); n != 0 || err == nil {
		t.Errorf("ProcessOpen(cancelled) = %d, %v", n, err)
	}
}

// deleteSetup stores, for tenants a and b, events of the victim under both
// key versions in two campaigns of a (one in China's zone, one in UTC) and
// one of b, plus a bystander's and an anonymous event in a, with rollups.
// It returns a's campaigns.
func deleteSetup(h *harness, a, b admeter.TenantID) (cn, utc admeter.CampaignID) {
	cn, utc = "20000001", "20000002"
	h.pipe.zones[cn] = cst
	// 2026-09-27 17:30 UTC is Sep 28 01:30 in China.
	t1, t2 := time.Date(2026, 9, 27, 17, 30, 0, 0, time.UTC), time.Date(2026, 9, 28, 3, 0, 0, 0, time.UTC)
	h.insert(
		h.ev(a, cn, victim, 1, t1),
		h.ev(a, cn, victim, 2, t2),
		h.ev(a, cn, bystander, 2, t2),
		h.ev(a, cn, "", 2, t2),
		h.ev(a, utc, victim, 2, t1),
		h.ev(b, "30000001", victim, 1, t1),
	)
	h.refresh(a, cn, t1, t2)
	h.refresh(a, utc, t1, t1)
	h.refresh(b, "30000001", t1, t1)
	return cn, utc
}

// TestDelete: a deletion removes the device's events of the requesting
// tenant only, under every key version; the affected rollups are
// recomputed; an earlier access copy goes; the device is opted out.
func TestDelete(t *testing.T) {
	h := newHarness(t, nil)
	a, b := h.tenant("A"), h.tenant("B")
	cn, utc := deleteSetup(h, a, b)
	// The victim counts twice: its pseudonyms under the two key versions
	// differ.
	if imps, uv := h.daily(a, cn, "2026-09-28"); imps != 4 || uv != 3 {
		t.Fatalf("rollup before: %d impressions, %d users", imps, uv)
	}
	if imps, _ := h.daily(a, utc, "2026-09-27"); imps != 1 {
		t.Fatalf("UTC campaign rollup before: %d impressions", imps)
	}
	acc, _ := h.submit(a, oaid("access", victim))
	h.process(1)
	if _, err := h.svc.Export(t.Context(), a, acc.ID); err != nil {
		t.Fatal(err)
	}

	del, _ := h.submit(a, oaid("delete", md5hex(victim)))
	if !h.registry.Contains(h.optOutOf(admeter.IDOAID, victim)) || !del.Outcome.OptOutAdded {
		t.Fatal("the device was not opted out when the delete request arrived")
	}
	h.clock.Add(time.Hour)
	h.process(1)
	r := h.get(a, del.ID)
	want := admeter.RequestOutcome{Events: 3, Campaigns: 2, OptOutAdded: true, ExportsRemoved: 1}
	if r.Status != admeter.RequestDone || !reflect.DeepEqual(r.Outcome, want) || !r.Completed.Equal(start.Add(time.Hour)) {
		t.Fatalf("delete request: status %s, outcome %+v, completed %v; want done, %+v", r.Status, r.Outcome, r.Completed, want)
	}

	users := []admeter.Pseudonym{h.user(victim, 1), h.user(victim, 2)}
	if evs, _, err := h.store.UserEvents(t.Context(), a, users, 10); err != nil || len(evs) != 0 {
		t.Errorf("tenant A still holds %d events of the device (%v)", len(evs), err)
	}
	if evs, _, _ := h.store.UserEvents(t.Context(), b, users, 10); len(evs) != 1 {
		t.Errorf("tenant B holds %d events of the device, want its 1: a deletion is the requesting tenant's", len(evs))
	}
	if evs, _, _ := h.store.UserEvents(t.Context(), a, []admeter.Pseudonym{h.user(bystander, 2)}, 10); len(evs) != 1 {
		t.Errorf("the bystander has %d events, want 1", len(evs))
	}
	days, err := h.store.RawDays(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var left int64
	for _, d := range days {
		left += d.Events
	}
	if left != 3 {
		t.Errorf("%d raw events left, want 3 (bystander, anonymous, tenant B)", left)
	}

	// The rollups count the events left, in each campaign's zone.
	if imps, uv := h.daily(a, cn, "2026-09-28"); imps != 2 || uv != 1 {
		t.Errorf("rollup after: %d impressions, %d users; want 2 and 1", imps, uv)
	}
	if imps, _ := h.daily(a, utc, "2026-09-27"); imps != 0 {
		t.Errorf("UTC campaign rollup after: %d impressions, want 0", imps)
	}
	if imps, _ := h.daily(b, "30000001", "2026-09-27"); imps != 1 {
		t.Errorf("tenant B's rollup after: %d impressions, want 1", imps)
	}
	if _, err := h.svc.Export(t.Context(), a, acc.ID); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Errorf("the access copy survived the deletion: %v", err)
	}

	// Carrying it out again (as after a crash) finds nothing more and
	// keeps the first counts.
	r.Status = admeter.RequestProcessing
	if err := h.meta.UpdateRequest(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	h.process(1)
	if again := h.get(a, del.ID); again.Status != admeter.RequestDone || !reflect.DeepEqual(again.Outcome, want) {
		t.Errorf("after carrying it out again: status %s, outcome %+v; want %+v", again.Status, again.Outcome, want)
	}

	// A second request finds the device opted out and nothing to delete.
	del2, _ := h.submit(a, oaid("delete", victim))
	h.process(1)
	if r := h.get(a, del2.ID); !reflect.DeepEqual(r.Outcome, admeter.RequestOutcome{}) {
		t.Errorf("second delete request: outcome %+v, want nothing done", r.Outcome)
	}
}

// TestDeleteInterrupted: a shutdown in the middle of a deletion neither
// leaves the rollups counting the deleted events nor loses the count: the
// next round finishes the request with the first count.
func TestDeleteInterrupted(t *testing.T) {
	for _, at := range []string{"refresh", "purge", "refresh error"} {
		t.Run(at, func(t *testing.T) {
			h := newHarness(t, nil)
			a, b := h.tenant("A"), h.tenant("B")
			cn, _ := deleteSetup(h, a, b)
			del, _ := h.submit(a, oaid("delete", victim))

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			switch at {
			case "refresh":
				h.pipe.onRefresh = cancel
			case "purge":
				h.pipe.onPurge = cancel
			case "refresh error":
				// The store fails after the events are deleted: the retry
				// finds no events, and must recompute the saved spans.
				h.pipe.failRefresh.Store(1)
			}
			if n, err := h.svc.ProcessOpen(ctx); n != 0 || err == nil {
				t.Fatalf("interrupted ProcessOpen = %d, %v", n, err)
			}
			h.pipe.onRefresh, h.pipe.onPurge = nil, nil
			if r := h.get(a, del.ID); r.Status != admeter.RequestProcessing {
				t.Fatalf("interrupted request: status %s", r.Status)
			}

			h.process(1)
			r := h.get(a, del.ID)
			if r.Status != admeter.RequestDone || r.Outcome.Events != 3 || r.Outcome.Campaigns != 2 {
				t.Errorf("after the restart: status %s, outcome %+v; want 3 events in 2 campaigns", r.Status, r.Outcome)
			}
			if imps, uv := h.daily(a, cn, "2026-09-28"); imps != 2 || uv != 1 {
				t.Errorf("rollup after: %d impressions, %d users; want 2 and 1", imps, uv)
			}
		})
	}
}

// TestRun: Run carries out a request as soon as it is submitted, and stops
// when its context is cancelled.
func TestRun(t *testing.T) {
	h := newHarness(t, nil)
	tn := h.tenant("A")
	h.insert(h.ev(tn, "10000001", victim, 1, start.Add(-time.Hour)))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.svc.Run(ctx, time.Hour) }()

	r, _ := h.submit(tn, oaid("access", victim))
	deadline := time.Now().Add(10 * time.Second)
	for h.get(tn, r.ID).Status != admeter.RequestDone {
		if time.Now().After(deadline) {
			t.Fatal("the request was not carried out: Run did not wake up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	if exp, err := h.svc.Export(t.Context(), tn, r.ID); err != nil || len(exp.Events) != 1 {
		t.Errorf("Export after Run: %v", err)
	}
}
