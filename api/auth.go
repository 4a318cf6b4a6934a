package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/admeter/admeter"
)

// Token prefixes say what a token is for when one turns up in a config file.
const (
	OperatorTokenPrefix = "adm_op_"
	TenantTokenPrefix   = "adm_t_"
)

// NewToken returns a new random API token with the given prefix: 32 random
// bytes in unpadded base64url.
func NewToken(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken returns the SHA-256 of a token, the only form in which tokens are
// stored. Tokens carry 256 bits of randomness, so a fast hash is enough.
func HashToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// bearer returns the token of an "Authorization: Bearer …" header, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

type ctxKey int

const tenantKey ctxKey = iota

// tenantFrom returns the authenticated tenant of a request.
func tenantFrom(ctx context.Context) *admeter.Tenant {
	t, _ := ctx.Value(tenantKey).(*admeter.Tenant)
	return t
}

// requireOperator wraps h so that only the operator token is accepted.
func (s *Server) requireOperator(h apiFunc) apiFunc {
	return func(r *http.Request) (int, any, error) {
		tok := bearer(r)
		if tok == "" {
			return 0, nil, admeter.Errorf(admeter.EUNAUTHORIZED, "send the operator token as Authorization: Bearer <token>; it is in the data directory's operator.token file")
		}
		got := HashToken(tok)
		if subtle.ConstantTimeCompare(got[:], s.operatorHash[:]) != 1 {
			return 0, nil, admeter.Errorf(admeter.EUNAUTHORIZED, "the token is not the operator token")
		}
		return h(r.WithContext(context.WithValue(r.Context(), principalKey, &principal{operator: true})))
	}
}
