package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/admeter/admeter"
)

// TestPostsValid: every social helper makes records a store accepts, and
// GenPosts is reproducible with distinct ids.
func TestPostsValid(t *testing.T) {
	at := utc("2026-03-02T10:00:00Z")
	posts := []admeter.SocialPost{
		Post(1, at, 1), Search(2, at, "口红", 5),
		Post(3, at, 2, PostTenant("t2"), PostSource("douyin"), PostKind(admeter.SocialRepost), PostText(""),
			PostKeyVersion(2), PostReceived(at.Add(time.Second))),
	}
	gen := GenPosts(3, "", 2000, at, time.Second)
	posts = append(posts, gen...)
	ids := map[admeter.Pseudonym]bool{}
	for i, p := range posts {
		if err := p.Validate(); err != nil {
			t.Errorf("record %d: %v", i, err)
		}
		if ids[p.ID] {
			t.Errorf("record %d: id %s repeated", i, p.ID.Hex())
		}
		ids[p.ID] = true
	}
	if !reflect.DeepEqual(gen, GenPosts(3, "", 2000, at, time.Second)) {
		t.Error("the same seed gave different records")
	}
	if PostID(1) == UserID(1) || PostID(1) == PostID(2) {
		t.Error("test pseudonyms collide")
	}
}
