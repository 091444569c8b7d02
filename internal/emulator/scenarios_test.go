package emulator

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// TestScenarioPerClient: in process, with -race: each client's steps are
// its own, in order, while the emulator's own client takes the Faults queue
// at the same time; Serve reports client and step, never the secret.
func TestScenarioPerClient(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	id, steps, err := ParseScenario("flaky=503*2,401")
	if err != nil || id != "flaky" || len(steps) != 2 || steps[0].Times != 2 || steps[1].Fault.Name != "401" || steps[1].Times != 1 {
		t.Fatalf("ParseScenario = %q, %+v, %v", id, steps, err)
	}
	s.Scenario(id, steps...)
	s.Scenario("down", Step{Fault: Unavailable})
	s.Faults(Unavailable)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string][]int{}
	for _, c := range []string{"flaky", "flaky", "flaky", "flaky", testID, testID, "down", "down"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := getToken(t, s, creds(c, testSecret))
			mu.Lock()
			got[c] = append(got[c], a.status)
			mu.Unlock()
		}()
	}
	wg.Wait()
	count := func(l []int, v int) (n int) {
		for _, x := range l {
			if x == v {
				n++
			}
		}
		return n
	}
	if count(got["flaky"], 503) != 2 || count(got["flaky"], 401) != 1 || count(got["flaky"], 200) != 1 ||
		count(got[testID], 503) != 1 || count(got[testID], 200) != 1 || count(got["down"], 503) != 1 || count(got["down"], 200) != 1 {
		t.Errorf("statuses per client: %v", got)
	}

	// Setting a scenario again starts it over; Serve says what answered.
	s.Scenario(id, steps...)
	rec := httptest.NewRecorder()
	info := s.Serve(rec, httptest.NewRequest(http.MethodGet, "/auth/api/access-token?"+creds("flaky", testSecret).Encode(), nil))
	if want := (RequestInfo{Client: "flaky", Scenario: "flaky=503*2,401", Fault: "503 (1 of 2)"}); rec.Code != 503 || !reflect.DeepEqual(info, want) {
		t.Errorf("HTTP %d, Serve = %+v, want 503 and %+v", rec.Code, info, want)
	}
}

// TestServeSaysWhyItRefused: Serve reports why a token or a bearer token was
// refused when no fault answered, for the request log, and never quotes the
// secret or the token.
func TestServeSaysWhyItRefused(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	serve := func(target, bearer string) (int, RequestInfo) {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		rec := httptest.NewRecorder()
		info := s.Serve(rec, req)
		return rec.Code, info
	}
	const tokenURL = "/auth/api/access-token?"
	code, info := serve(tokenURL+creds(testID, "wrong-"+testSecret).Encode(), "")
	if code != 401 || info.Client != testID || info.Refused != "wrong client secret: not the one the emulator started with (FACEKI_CLIENT_SECRET or -client-secret)" {
		t.Errorf("a wrong secret: HTTP %d, %+v", code, info)
	}
	code, info = serve(tokenURL+creds("stranger", testSecret).Encode(), "")
	if code != 401 || !strings.HasPrefix(info.Refused, `unknown client ID: the emulator accepts "`+testID+`"`) {
		t.Errorf("an unknown client: HTTP %d, %+v", code, info)
	}
	code, info = serve(tokenURL+creds(testID, testSecret).Encode(), "")
	if code != 200 || info.Refused != "" {
		t.Fatalf("the right credentials: HTTP %d, %+v", code, info)
	}
	tokens := s.IssuedTokens()
	s.Revoke(tokens[0])
	if code, info = serve("/kycrules/api/kycrules", tokens[0]); code != 401 || info.Refused != "a revoked token" {
		t.Errorf("a revoked token: HTTP %d, %+v", code, info)
	}
	getToken(t, s, creds(testID, testSecret))
	s.Expire()
	for _, tok := range s.IssuedTokens() {
		if tok == tokens[0] {
			continue
		}
		if code, info = serve("/kycrules/api/kycrules", tok); code != 401 || !strings.HasPrefix(info.Refused, "a token that expired ") {
			t.Errorf("an expired token: HTTP %d, %+v", code, info)
		}
		if strings.Contains(info.Refused, tok) || strings.Contains(info.Refused, testSecret) {
			t.Errorf("Refused quotes the token or the secret: %q", info.Refused)
		}
	}
}
