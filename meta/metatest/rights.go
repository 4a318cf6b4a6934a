package metatest

import (
	"crypto/sha256"
	"reflect"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

func testRightsRequests(t *testing.T, open Opener) {
	db := openDB(t, open)
	ctx := t.Context()
	tenant := func(name string) admeter.TenantID {
		tn := &admeter.Tenant{Name: name, Kind: admeter.TenantAdvertiser}
		if err := db.CreateTenant(ctx, tn, sha256.Sum256([]byte(name))); err != nil {
			t.Fatal(err)
		}
		return tn.ID
	}
	a, b := tenant("A"), tenant("B")
	at := time.Date(2026, 9, 28, 3, 0, 0, 0, time.UTC)
	mk := func(tn admeter.TenantID, typ admeter.RequestType, minor bool, received time.Time, fp byte) *admeter.RightsRequest {
		r := &admeter.RightsRequest{
			Tenant: tn, Type: typ, IDType: admeter.IDIDFA, Minor: minor, Note: "ticket 7", Actor: "tenant:" + string(tn),
			Status: admeter.RequestPending, Received: received, Due: received.AddDate(0, 0, 21), DueExact: true,
			Fingerprint: string(rune('a' + fp)), OptOut: []admeter.Pseudonym{{fp}}, Users: []admeter.Pseudonym{{fp, 1}, {fp, 2}},
		}
		if err := db.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1 := mk(a, admeter.RequestAccess, false, at, 1)
	r2 := mk(a, admeter.RequestDelete, true, at.Add(time.Hour), 2)
	r3 := mk(b, admeter.RequestOptOut, false, at.Add(-time.Hour), 1)

	got, err := db.Request(ctx, a, r1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r1) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, r1)
	}
	if _, err := db.Request(ctx, b, r1.ID); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("another tenant's request: err = %v, want not found", err)
	}
	pending, err := db.OpenRequests(ctx)
	if err != nil || len(pending) != 3 || pending[0].ID != r2.ID || pending[1].ID != r3.ID || pending[2].ID != r1.ID {
		t.Fatalf("open requests not minor-first then oldest-first: %v", err)
	}
	r2.Status, r2.Completed = admeter.RequestDone, at.Add(2*time.Hour)
	r2.Outcome = admeter.RequestOutcome{Events: 12, Campaigns: 2, OptOutAdded: true}
	if err := db.UpdateRequest(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Request(ctx, a, r2.ID); !reflect.DeepEqual(got, r2) {
		t.Fatalf("after update:\n got %+v\nwant %+v", got, r2)
	}
	if list, _ := db.Requests(ctx, a); len(list) != 2 || list[0].ID != r2.ID {
		t.Fatalf("tenant list: %d requests", len(list))
	}
	if dev, _ := db.DeviceRequests(ctx, a, r1.Fingerprint); len(dev) != 1 || dev[0].ID != r1.ID {
		t.Fatalf("device requests: %d", len(dev))
	}
	bad := *r1
	bad.Tenant = b
	if err := db.UpdateRequest(ctx, &bad); admeter.ErrorCode(err) != admeter.ENOTFOUND {
		t.Fatalf("update through another tenant: %v", err)
	}
}
