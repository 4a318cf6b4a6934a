// Package keystoretest is the conformance suite of keystore.Backend: the
// same tests, run against every backend (the file in package keystore, the
// PostgreSQL table in meta/postgres), check the compare-and-swap contract
// of Load and Save and that Stores on several nodes sharing one backend
// see one another's rotations and destructions, never lose one, create the
// key store once, and refuse a document whose history was rewritten.
package keystoretest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/admeter/admeter/keystore"
)

// NewDocument makes a fresh place, holding no document yet, for a key
// store document, and returns a function that opens a new Backend on it
// each time it is called: one per node (process) that shares the
// document. Each Backend should have connections of its own, as separate
// processes would. Whatever they hold is released when t ends.
type NewDocument func(t *testing.T) (node func(t *testing.T) keystore.Backend)

// Run runs the whole suite against the backends newDoc makes.
func Run(t *testing.T, newDoc NewDocument) {
	t.Run("Backend", func(t *testing.T) { RunBackend(t, newDoc) })
	t.Run("Nodes", func(t *testing.T) { RunNodes(t, newDoc) })
}

// RunBackend checks the Backend contract: Load of nothing, Save creating
// once, compare-and-swap, and no lost update among concurrent savers.
func RunBackend(t *testing.T, newDoc NewDocument) {
	t.Run("LoadNothing", func(t *testing.T) {
		b := newDoc(t)(t)
		doc, rev, err := b.Load(t.Context())
		if err != nil || doc != nil || rev != 0 {
			t.Fatalf("Load() of nothing = %q, %d, %v; want nil, 0, nil", doc, rev, err)
		}
	})

	t.Run("CreateOnce", func(t *testing.T) {
		node := newDoc(t)
		a, b := node(t), node(t)
		rev, err := a.Save(t.Context(), []byte("first"), 0)
		if err != nil {
			t.Fatal(err)
		} else if rev == 0 {
			t.Fatal("Save() returned revision 0, which means no document")
		}
		if _, err := b.Save(t.Context(), []byte("second"), 0); !keystore.IsConflict(err) {
			t.Fatalf("second create: err = %v, want a conflict", err)
		}
		for i, n := range []keystore.Backend{a, b} {
			mustLoad(t, fmt.Sprintf("node %d", i), n, "first", rev)
		}
	})

	t.Run("CompareAndSwap", func(t *testing.T) {
		node := newDoc(t)
		a, b := node(t), node(t)
		rev1, err := a.Save(t.Context(), []byte("v1"), 0)
		if err != nil {
			t.Fatal(err)
		}
		rev2, err := b.Save(t.Context(), []byte("v2"), rev1)
		if err != nil {
			t.Fatal(err)
		} else if rev2 == rev1 || rev2 == 0 {
			t.Fatalf("revision after a save = %d, was %d", rev2, rev1)
		}
		for _, tt := range []struct {
			name string
			prev int64
		}{
			{"Stale", rev1},
			{"Unknown", rev1 ^ rev2 ^ 12345},
			{"CreateOverExisting", 0},
		} {
			if _, err := a.Save(t.Context(), []byte("lost"), tt.prev); !keystore.IsConflict(err) {
				t.Fatalf("%s: Save() err = %v, want a conflict", tt.name, err)
			}
		}
		mustLoad(t, "a", a, "v2", rev2)
		rev3, err := a.Save(t.Context(), []byte("v3"), rev2)
		if err != nil {
			t.Fatal(err)
		}
		mustLoad(t, "b", b, "v3", rev3)
	})

	t.Run("Canceled", func(t *testing.T) {
		b := newDoc(t)(t)
		rev, err := b.Save(t.Context(), []byte("kept"), 0)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := b.Save(ctx, []byte("canceled"), rev); err == nil {
			t.Fatal("Save() with a canceled context succeeded")
		}
		if _, _, err := b.Load(ctx); err == nil {
			t.Fatal("Load() with a canceled context succeeded")
		}
		mustLoad(t, "b", b, "kept", rev)
	})

	t.Run("ConcurrentCreate", func(t *testing.T) {
		node := newDoc(t)
		const n = 6
		nodes := make([]keystore.Backend, n)
		for i := range nodes {
			nodes[i] = node(t)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []int
		start := make(chan struct{})
		for i, b := range nodes {
			wg.Go(func() {
				<-start
				_, err := b.Save(t.Context(), []byte(strconv.Itoa(i)), 0)
				switch {
				case err == nil:
					mu.Lock()
					won = append(won, i)
					mu.Unlock()
				case !keystore.IsConflict(err):
					t.Errorf("node %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("%d nodes created the document (%v), want exactly 1", len(won), won)
		}
		doc, _, err := nodes[0].Load(t.Context())
		if err != nil || string(doc) != strconv.Itoa(won[0]) {
			t.Fatalf("Load() = %q, %v; want the winner's %d", doc, err, won[0])
		}
	})

	// Each node increments a counter in the document by load and
	// compare-and-swap, retrying when it loses: no increment is lost.
	t.Run("NoLostUpdate", func(t *testing.T) {
		node := newDoc(t)
		if _, err := node(t).Save(t.Context(), []byte("0"), 0); err != nil {
			t.Fatal(err)
		}
		const nodes, each = 4, 10
		var wg sync.WaitGroup
		for i := range nodes {
			b := node(t)
			wg.Go(func() {
				for range each {
					for {
						doc, rev, err := b.Load(t.Context())
						if err != nil {
							t.Errorf("node %d: %v", i, err)
							return
						}
						n, err := strconv.Atoi(string(doc))
						if err != nil {
							t.Errorf("node %d: document %q: %v", i, doc, err)
							return
						}
						_, err = b.Save(t.Context(), []byte(strconv.Itoa(n+1)), rev)
						if err == nil {
							break
						} else if !keystore.IsConflict(err) {
							t.Errorf("node %d: %v", i, err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		doc, _, err := node(t).Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := string(doc); got != strconv.Itoa(nodes*each) {
			t.Fatalf("counter = %s after %d increments: an update was lost", got, nodes*each)
		}
	})
}

// RunNodes checks Stores on several nodes that share one backend: a
// rotation or destruction on one reaches the others on Reload, concurrent
// changes are all kept, the first start creates one key store, and a
// rewritten history is refused.
func RunNodes(t *testing.T, newDoc NewDocument) {
	t.Run("RotatePropagates", func(t *testing.T) {
		node := newDoc(t)
		master := NewMasterKey(t)
		a := MustOpen(t, node(t), master)
		b := MustOpen(t, node(t), master)
		assertSame(t, a, b)
		if !bytes.Equal(a.OptOutSecret(), b.OptOutSecret()) {
			t.Fatal("the nodes hold different opt-out registry secrets")
		}

		if changed, err := b.ReloadContext(t.Context()); err != nil || changed {
			t.Fatalf("Reload() of an unchanged key store = %v, %v; want false, nil", changed, err)
		}
		v, err := a.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if cur, _ := b.Current(); cur != 1 {
			t.Fatalf("node b switched to %d before reloading", cur)
		}
		if changed, err := b.ReloadContext(t.Context()); err != nil || !changed {
			t.Fatalf("Reload() after another node's Rotate = %v, %v; want true, nil", changed, err)
		}
		if cur, _ := b.Current(); cur != v {
			t.Fatalf("node b: current = %d after reloading, want %d", cur, v)
		}
		assertSame(t, a, b)
		if changed, err := b.ReloadContext(t.Context()); err != nil || changed {
			t.Fatalf("second Reload() = %v, %v; want false, nil", changed, err)
		}
	})

	t.Run("ConcurrentRotate", func(t *testing.T) {
		node := newDoc(t)
		master := NewMasterKey(t)
		stores := []*keystore.Store{MustOpen(t, node(t), master), MustOpen(t, node(t), master)}
		const each = 5
		var mu sync.Mutex
		var got []uint32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, s := range stores {
			wg.Go(func() {
				<-start
				for range each {
					v, err := s.Rotate(t.Context())
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					got = append(got, v)
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		slices.Sort(got)
		want := make([]uint32, 2*each)
		for i := range want {
			want[i] = uint32(i + 2)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Rotate() returned %v, want each of %v once", got, want)
		}
		for _, s := range stores {
			if _, err := s.ReloadContext(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		assertSame(t, stores[0], stores[1])
		if n := len(stores[0].Versions()); n != 2*each+1 {
			t.Fatalf("%d versions after %d rotations, want %d: a rotation was lost", n, 2*each, 2*each+1)
		}
		assertDistinct(t, stores[0])
	})

	t.Run("ConcurrentRotateAndDestroy", func(t *testing.T) {
		node := newDoc(t)
		master := NewMasterKey(t)
		a, b := MustOpen(t, node(t), master), MustOpen(t, node(t), master)
		for range 2 {
			if _, err := a.Rotate(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			for range 5 {
				if _, err := a.Rotate(t.Context()); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			<-start
			for _, v := range []uint32{1, 2} {
				if err := b.Destroy(t.Context(), v); err != nil {
					t.Error(err)
					return
				}
			}
		})
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		c := MustOpen(t, node(t), master)
		for _, s := range []*keystore.Store{a, b} {
			if _, err := s.ReloadContext(t.Context()); err != nil {
				t.Fatal(err)
			}
			assertSame(t, s, c)
		}
		infos := c.Versions()
		if len(infos) != 8 {
			t.Fatalf("%d versions, want 8: a rotation was lost", len(infos))
		}
		for _, info := range infos {
			if destroyed := !info.Destroyed.IsZero(); destroyed != (info.Version <= 2) {
				t.Fatalf("version %d destroyed = %v: a destruction was lost or misapplied", info.Version, destroyed)
			}
		}
	})

	// The interleaved tests make another node's change land between a
	// node's Load and its Save, every time rather than by chance.
	t.Run("InterleavedRotate", func(t *testing.T) {
		node := newDoc(t)
		master := NewMasterKey(t)
		ib := &interleaved{Backend: node(t)}
		a, b := MustOpen(t, ib, master), MustOpen(t, node(t), master)
		ib.before(t, 1, func() {
			if v, err := b.Rotate(t.Context()); err != nil || v != 2 {
				t.Errorf("b.Rotate() = %d, %v; want 2", v, err)
			}
		})
		v, err := a.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if v != 3 {
			t.Fatalf("a.Rotate() = %d after b's rotation to 2, want 3", v)
		}
		if ib.lost() != 1 {
			t.Fatalf("a's saves lost %d times, want 1", ib.lost())
		}
		if _, err := b.ReloadContext(t.Context()); err != nil {
			t.Fatal(err)
		}
		assertSame(t, a, b)
	})

	t.Run("InterleavedDestroy", func(t *testing.T) {
		node := newDoc(t)
		master := NewMasterKey(t)
		ib := &interleaved{Backend: node(t)}
		a, b := MustOpen(t, ib, master), MustOpen(t, node(t), master)
		if _, err := a.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		ib.before(t, 1, func() {
			if _, err := b.Rotate(t.Context()); err != nil {
				t.Error(err)
			}
		})
		if err := a.Destroy(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		if ib.lost() != 1 {
			t.Fatalf("a's saves lost %d times, want 1", ib.lost())
		}
		if _, err := b.ReloadContext(t.Context()); err != nil {
			t.Fatal(err)
		}
		assertSame(t, a, b)
		if v, _ := a.Current(); v != 3 {
			t.Fatalf("current = %d, want b's 3", v)
		}
		if _, err := b.Secret(1); !errors.Is(err, keystore.ErrDestroyed) {
			t.Fatalf("Secret(1): err = %v, want ErrDestroyed", err)
		}
	})

	t.Run("InterleavedFirstStart", func(t *testing.T) {
		node := newDoc(t)
		master := NewMasterKey(t)
		ib := &interleaved{Backend: node(t)}
		var b *keystore.Store
		ib.before(t, 1, func() { b = MustOpen(t, node(t), master) })
		a := MustOpen(t, ib, master)
		if ib.lost() != 1 {
			t.Fatalf("a's create lost %d times, want 1", ib.lost())
		}
		assertSame(t, a, b)
		if !bytes.Equal(a.OptOutSecret(), b.OptOutSecret()) {
			t.Fatal("the nodes hold different opt-out registry secrets")
		}
		doc, _, err := ib.Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(sealedVersions(t, doc)); n != 1 {
			t.Fatalf("the document holds %d versions, want 1", n)
		}
	})

	// A node that loses every time gives up, after a bounded number of
	// attempts, with a conflict, and changes nothing.
	t.Run("BoundedRetries", func(t *testing.T) {
		node := newDoc(t)
		master := NewMasterKey(t)
		ib := &interleaved{Backend: node(t)}
		a, b := MustOpen(t, ib, master), MustOpen(t, node(t), master)
		ib.before(t, 1000, func() {
			if _, err := b.Rotate(t.Context()); err != nil {
				t.Error(err)
			}
		})
		_, err := a.Rotate(t.Context())
		if !keystore.IsConflict(err) {
			t.Fatalf("a.Rotate() err = %v, want a conflict after losing every time", err)
		}
		if n := ib.lost(); n < 2 || n > 100 {
			t.Fatalf("a tried %d times, want a few, and not many", n)
		}
		if v, _ := a.Current(); v != 1 || len(a.Versions()) != 1 {
			t.Fatalf("a.Current() = %d after a failed Rotate: it holds a version it did not save", v)
		}
		if _, err := a.ReloadContext(t.Context()); err != nil {
			t.Fatal(err)
		}
		assertSame(t, a, b)
	})

	t.Run("SimultaneousFirstStart", func(t *testing.T) {
		node := newDoc(t)
		master := NewMasterKey(t)
		const n = 6
		backends := make([]keystore.Backend, n)
		for i := range backends {
			backends[i] = node(t)
		}
		stores := make([]*keystore.Store, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() {
				<-start
				s, err := keystore.OpenBackend(t.Context(), backends[i], master, nil)
				if err != nil {
					t.Errorf("node %d: %v", i, err)
					return
				}
				stores[i] = s
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		doc, _, err := backends[0].Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(sealedVersions(t, doc)); n != 1 {
			t.Fatalf("the document holds %d versions after the first start, want 1", n)
		}
		inDoc := MustOpen(t, node(t), master)
		for i, s := range stores {
			if v, _ := s.Current(); v != 1 {
				t.Fatalf("node %d: current = %d, want 1", i, v)
			}
			assertSame(t, s, inDoc)
			if !bytes.Equal(s.OptOutSecret(), inDoc.OptOutSecret()) {
				t.Fatalf("node %d holds an opt-out registry secret that is not in the document", i)
			}
		}
	})

	t.Run("DestroyPropagates", func(t *testing.T) {
		node := newDoc(t)
		master := NewMasterKey(t)
		b := node(t)
		a, server := MustOpen(t, b, master), MustOpen(t, node(t), master)
		if _, err := a.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := server.ReloadContext(t.Context()); err != nil {
			t.Fatal(err)
		}
		gone, err := server.Secret(1)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Destroy(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		if changed, err := server.ReloadContext(t.Context()); err != nil || !changed {
			t.Fatalf("Reload() after another node's Destroy = %v, %v; want true, nil", changed, err)
		}
		if _, err := server.Secret(1); !errors.Is(err, keystore.ErrDestroyed) {
			t.Fatalf("Secret(1) after reloading: err = %v, want ErrDestroyed", err)
		}
		if _, err := server.Secret(2); err != nil {
			t.Fatal(err)
		}
		doc, _, err := b.Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if k := sealedVersions(t, doc)[0]; k.Ciphertext != nil || k.Nonce != nil || k.Destroyed == "" {
			t.Fatalf("destroyed version 1 in the document: %+v; want no nonce or ciphertext, and a time", k)
		}
		AssertNoSecret(t, "the document", doc, gone)
	})

	t.Run("RefusesRewrittenHistory", func(t *testing.T) {
		for _, tt := range []struct {
			name, text string
			// change changes the document through a, after the backup.
			change func(t *testing.T, a *keystore.Store)
		}{
			{"VersionDisappears", "version 3 disappeared", func(t *testing.T, a *keystore.Store) {
				if _, err := a.Rotate(t.Context()); err != nil {
					t.Fatal(err)
				}
			}},
			{"DestroyedComesBack", "version 1 was destroyed but the file holds it again", func(t *testing.T, a *keystore.Store) {
				if err := a.Destroy(t.Context(), 1); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				node := newDoc(t)
				master := NewMasterKey(t)
				b := node(t)
				a := MustOpen(t, b, master)
				if _, err := a.Rotate(t.Context()); err != nil {
					t.Fatal(err)
				}
				backup, _, err := b.Load(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				tt.change(t, a)
				server := MustOpen(t, node(t), master)
				before := server.Versions()
				wantCur, wantSecret := server.Current()

				// Restore the backup over the changed document.
				_, rev, err := b.Load(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := b.Save(t.Context(), backup, rev); err != nil {
					t.Fatal(err)
				}

				changed, err := server.ReloadContext(t.Context())
				if err == nil || changed {
					t.Fatalf("Reload() = %v, %v; want an error", changed, err)
				}
				if !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("err = %q, want it to say %q", err, tt.text)
				}
				if _, err := server.Rotate(t.Context()); err == nil || !strings.Contains(err.Error(), tt.text) {
					t.Fatalf("Rotate() err = %v, want it to say %q", err, tt.text)
				}
				cur, secret := server.Current()
				if cur != wantCur || !bytes.Equal(secret, wantSecret) || len(server.Versions()) != len(before) {
					t.Fatal("a refused reload changed the store")
				}
				if doc, _, err := b.Load(t.Context()); err != nil || !bytes.Equal(doc, backup) {
					t.Fatal("a refused Rotate changed the document")
				}
			})
		}
	})

	t.Run("RotateMaster", func(t *testing.T) {
		node := newDoc(t)
		oldMaster, newMaster := NewMasterKey(t), NewMasterKey(t)
		server := MustOpen(t, node(t), oldMaster)
		if _, err := server.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := keystore.RotateMasterBackend(t.Context(), node(t), oldMaster, newMaster, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := server.ReloadContext(t.Context()); !errors.Is(err, keystore.ErrWrongMasterKey) {
			t.Fatalf("Reload() after RotateMasterBackend: err = %v, want ErrWrongMasterKey", err)
		}
		again := MustOpen(t, node(t), newMaster)
		assertSame(t, server, again)
		if !bytes.Equal(server.OptOutSecret(), again.OptOutSecret()) {
			t.Fatal("the opt-out registry secret changed with the master key")
		}
		if _, err := keystore.OpenBackend(t.Context(), node(t), oldMaster, nil); !errors.Is(err, keystore.ErrWrongMasterKey) {
			t.Fatalf("OpenBackend with the old master key: err = %v, want ErrWrongMasterKey", err)
		}
	})

	t.Run("Seed", func(t *testing.T) {
		master := NewMasterKey(t)
		file := keystore.NewFileBackend(filepath.Join(t.TempDir(), "keys.json"))
		local := MustOpen(t, file, master)
		if _, err := local.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		node := newDoc(t)

		if _, err := keystore.Seed(t.Context(), node(t), file, NewMasterKey(t)); !errors.Is(err, keystore.ErrWrongMasterKey) {
			t.Fatalf("Seed() under another master key: err = %v, want ErrWrongMasterKey", err)
		}
		if doc, _, err := node(t).Load(t.Context()); err != nil || doc != nil {
			t.Fatalf("a refused Seed() saved a document (%v)", err)
		}
		if copied, err := keystore.Seed(t.Context(), node(t), file, master); err != nil || !copied {
			t.Fatalf("Seed() = %v, %v; want true, nil", copied, err)
		}
		shared := MustOpen(t, node(t), master)
		assertSame(t, local, shared)
		if !bytes.Equal(local.OptOutSecret(), shared.OptOutSecret()) {
			t.Fatal("the seeded key store has another opt-out registry secret")
		}

		// Seeding again, or from nothing, copies nothing.
		if _, err := shared.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		empty := keystore.NewFileBackend(filepath.Join(t.TempDir(), "keys.json"))
		for name, src := range map[string]keystore.Backend{"Again": file, "FromNothing": empty} {
			if copied, err := keystore.Seed(t.Context(), node(t), src, master); err != nil || copied {
				t.Fatalf("%s: Seed() = %v, %v; want false, nil", name, copied, err)
			}
		}
		if _, err := shared.ReloadContext(t.Context()); err != nil {
			t.Fatalf("the document changed under the shared store: %v", err)
		}
		if v, _ := shared.Current(); v != 3 {
			t.Fatalf("current = %d, want 3", v)
		}
	})

	t.Run("RotateMasterNothing", func(t *testing.T) {
		b := newDoc(t)(t)
		err := keystore.RotateMasterBackend(t.Context(), b, NewMasterKey(t), NewMasterKey(t), nil)
		if err == nil {
			t.Fatal("RotateMasterBackend of no key store succeeded")
		}
		if doc, _, err := b.Load(t.Context()); err != nil || doc != nil {
			t.Fatalf("RotateMasterBackend created a document (%v)", err)
		}
	})
}

// interleaved is a Backend that runs a function just before some of its
// saves: another node's change that lands between this node's Load and
// Save. It injects the race; the backend underneath is real.
type interleaved struct {
	keystore.Backend

	mu     sync.Mutex
	n      int    // how many more saves fn runs before
	fn     func() // another node's change
	losses int    // saves that lost to a change fn made
}

// before makes fn run just before each of the next n saves.
func (b *interleaved) before(tb testing.TB, n int, fn func()) {
	tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n, b.fn = n, fn
}

// lost returns how many saves lost to a change that fn made.
func (b *interleaved) lost() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.losses
}

// Save runs fn if it is due, then saves.
func (b *interleaved) Save(ctx context.Context, doc []byte, prevRev int64) (int64, error) {
	b.mu.Lock()
	fn := b.fn
	if b.n > 0 {
		b.n--
	} else {
		fn = nil
	}
	b.mu.Unlock()
	if fn != nil {
		fn()
	}
	rev, err := b.Backend.Save(ctx, doc, prevRev)
	if fn != nil && keystore.IsConflict(err) {
		b.mu.Lock()
		b.losses++
		b.mu.Unlock()
	}
	return rev, err
}

// NewMasterKey returns a random master key.
func NewMasterKey(tb testing.TB) []byte {
	tb.Helper()
	key := make([]byte, keystore.MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		tb.Fatal(err)
	}
	return key
}

// MustOpen opens the key store b keeps under master, failing tb on error.
func MustOpen(tb testing.TB, b keystore.Backend, master []byte) *keystore.Store {
	tb.Helper()
	s, err := keystore.OpenBackend(tb.Context(), b, master, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// AssertNoSecret fails tb if data holds secret raw, in base64 (either
// alphabet, padded or not) or in hex. what names data in the message, which
// never shows the secret.
func AssertNoSecret(tb testing.TB, what string, data, secret []byte) {
	tb.Helper()
	forms := [][]byte{secret, []byte(hex.EncodeToString(secret))}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		forms = append(forms, []byte(enc.EncodeToString(secret)))
	}
	for _, f := range forms {
		if bytes.Contains(data, f) {
			tb.Fatalf("%s holds a secret in the clear", what)
		}
	}
}

// mustLoad fails tb unless b holds want at revision rev.
func mustLoad(tb testing.TB, name string, b keystore.Backend, want string, rev int64) {
	tb.Helper()
	doc, got, err := b.Load(tb.Context())
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	if string(doc) != want || got != rev {
		tb.Fatalf("%s: Load() = %q, %d; want %q, %d", name, doc, got, want, rev)
	}
}

// assertSame fails tb unless a and b list the same versions, destroyed
// alike, with the same secrets.
func assertSame(tb testing.TB, a, b *keystore.Store) {
	tb.Helper()
	va, vb := a.Versions(), b.Versions()
	if len(va) != len(vb) {
		tb.Fatalf("the nodes hold %d and %d versions", len(va), len(vb))
	}
	for i := range va {
		x, y := va[i], vb[i]
		if x.Version != y.Version || x.Current != y.Current || !x.Created.Equal(y.Created) || !x.Destroyed.Equal(y.Destroyed) {
			tb.Fatalf("the nodes differ on a version: %+v and %+v", x, y)
		}
		sa, ea := a.Secret(x.Version)
		sb, eb := b.Secret(x.Version)
		if (ea == nil) != (eb == nil) || !bytes.Equal(sa, sb) {
			tb.Fatalf("the nodes differ on the secret of version %d (%v, %v)", x.Version, ea, eb)
		}
	}
}

// assertDistinct fails tb if two live versions of s share a secret.
func assertDistinct(tb testing.TB, s *keystore.Store) {
	tb.Helper()
	seen := map[string]uint32{}
	for _, info := range s.Versions() {
		secret, err := s.Secret(info.Version)
		if err != nil {
			continue
		}
		if v, ok := seen[string(secret)]; ok {
			tb.Fatalf("versions %d and %d share a secret", v, info.Version)
		}
		seen[string(secret)] = info.Version
	}
}

// sealedKey is a version as the document keeps it.
type sealedKey struct {
	Version    uint32
	Destroyed  string
	Nonce      []byte
	Ciphertext []byte
}

// sealedVersions returns the versions of a key store document.
func sealedVersions(tb testing.TB, doc []byte) []sealedKey {
	tb.Helper()
	var f struct{ Keys []sealedKey }
	if err := json.Unmarshal(doc, &f); err != nil {
		tb.Fatalf("parse key store document: %v", err)
	}
	return f.Keys
}
