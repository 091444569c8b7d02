package emulator

import (
	"net/http"
	"net/http/httptest"
	"reflect"
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
