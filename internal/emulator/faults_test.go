package emulator

import (
	"reflect"
	"strings"
	"testing"
)

// The registry's names are an interface (faceki-emulator -fault, users'
// module tests): this list changes only by growing.
var stableFaultNames = []string{
	"503", "429", "html-500", "401", "200-with-401-body", "responsecode-1000", "truncated-json",
	"empty-body", "missing-token", "wrong-types", "64MiB-body", "hang", "drop", "echo",
	"gateway-return-url", "entity-echo", "secret-hint", "upper-echo",
}

func TestFaultRegistryNamesAreStable(t *testing.T) {
	t.Parallel()
	names := FaultNames()
	if len(names) < len(stableFaultNames) || !reflect.DeepEqual(names[:len(stableFaultNames)], stableFaultNames) {
		t.Fatalf("FaultNames() = %q\nwant it to start with %q (add faults at the end; never rename or drop one)", names, stableFaultNames)
	}
	seen := map[string]bool{}
	for _, nf := range FaultRegistry() {
		if seen[nf.Name] {
			t.Errorf("fault name %q is registered twice", nf.Name)
		}
		seen[nf.Name] = true
		if nf.Help == "" || strings.Contains(nf.Help, "\n") {
			t.Errorf("fault %q: help must be one line, got %q", nf.Name, nf.Help)
		}
		if strings.ContainsAny(nf.Name, " ,=\t") {
			t.Errorf("fault name %q does not fit on a command line as one -fault value", nf.Name)
		}
		f, ok := LookupFault(nf.Name)
		if !ok || f.Name != nf.Name {
			t.Errorf("LookupFault(%q) = %q, %v", nf.Name, f.Name, ok)
		}
		// A fault that answers normally would not be a fault.
		if f.Status == 0 && !f.Drop {
			t.Errorf("fault %q neither answers with a status nor drops the connection", nf.Name)
		}
	}
	if _, ok := LookupFault("no-such-fault"); ok {
		t.Error("LookupFault found a fault that is not registered")
	}
}

// The predefined variables and the registry name the same faults, so that
// tests in Go and -fault on the command line mean one thing.
func TestFaultRegistryMatchesTheVariables(t *testing.T) {
	t.Parallel()
	for _, v := range []Fault{Unavailable, TooManyRequests("1"), HTML500, Unauthorized, OK401, InternalError, TruncatedJSON,
		EmptyBody, MissingToken, WrongTypes, Huge, Hang(HangLimit), Drop, Echo, GatewayReturnURL, EntityEcho, SecretHint, UpperEcho} {
		f, ok := LookupFault(v.Name)
		if !ok {
			t.Errorf("fault %q is not in the registry", v.Name)
			continue
		}
		if f.Status != v.Status || f.Body != v.Body || f.BodyBytes != v.BodyBytes || f.Hang != v.Hang || f.Drop != v.Drop ||
			!reflect.DeepEqual(f.Header, v.Header) || (f.Reflect == nil) != (v.Reflect == nil) {
			t.Errorf("registry fault %q differs from the variable of that name", v.Name)
		}
	}
	if f, _ := LookupFault("429"); f.Header["Retry-After"] != "1" {
		t.Errorf(`fault 429: Retry-After = %q, want "1"`, f.Header["Retry-After"])
	}
}
