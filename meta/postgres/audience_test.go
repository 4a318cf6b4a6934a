package postgres_test

import (
	"testing"

	"github.com/admeter/admeter/meta/metatest"
)

func TestAudienceLedger(t *testing.T) { metatest.RunAudienceLedger(t, openStore) }
