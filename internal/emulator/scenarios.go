package emulator

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Step is one step of a client's scenario: Fault answers Times token
// requests in a row (0 counts as 1), or every request from then on when
// Times is Always.
type Step struct {
	Fault Fault
	Times int
}

// Always is Step.Times for a fault that answers every request from then on.
const Always = -1

// scenario is a client's steps and how far its requests have gone.
type scenario struct {
	spec  string // as the command line gave it, for the request log
	steps []Step
	step  int // index of the current step
	used  int // requests the current step has answered
}

// next returns the fault for the client's next token request (nil when
// the scenario is over) and where it stands, for the request log.
func (s *scenario) next() (*Fault, string) {
	switch {
	case len(s.steps) == 0:
		return nil, "" // a client served normally from the start
	case s.step >= len(s.steps):
		return nil, "done"
	}
	st := s.steps[s.step]
	if st.Times == Always {
		return &st.Fault, st.Fault.Name + " (always)"
	}
	times := max(st.Times, 1)
	s.used++
	where := fmt.Sprintf("%s (%d of %d)", st.Fault.Name, s.used, times)
	if s.used >= times {
		s.step, s.used = s.step+1, 0
	}
	return &st.Fault, where
}

// Scenario gives the token requests that name clientID a sequence of
// faults of their own, used in order, one per request, then normal answers.
// The emulator accepts clientID with its own secret, and such a client takes
// nothing from the Faults queue, so that one emulator serves a whole test
// suite: each test picks its behaviour by the client ID it uses. Setting a
// client's scenario again starts it over; no steps make a client that is
// served normally.
func (e *Emulator) Scenario(clientID string, steps ...Step) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.scenarios == nil {
		e.scenarios = map[string]*scenario{}
	}
	names := make([]string, len(steps))
	for i, st := range steps {
		names[i] = st.Fault.Name
		switch {
		case st.Times == Always:
			names[i] += "*"
		case st.Times > 1:
			names[i] += "*" + strconv.Itoa(st.Times)
		}
	}
	e.scenarios[clientID] = &scenario{spec: clientID + "=" + strings.Join(names, ","), steps: append([]Step(nil), steps...)}
}

// ClearFaults empties the Faults queue.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// ParseScenario reads a scenario as the command's -client flag takes it:
// ID=FAULT[,FAULT…], each FAULT a registered name (see FaultNames) answered
// once, NAME*N answered N times in a row, or NAME* answered from then on
// (last only). "ID=" is a client served normally.
func ParseScenario(spec string) (clientID string, steps []Step, err error) {
	clientID, list, ok := strings.Cut(spec, "=")
	if !ok || clientID == "" {
		return "", nil, fmt.Errorf("%q is not ID=FAULT[,FAULT…] (for example flaky=503 or down=503*)", spec)
	}
	if list == "" {
		return clientID, nil, nil
	}
	items := strings.Split(list, ",")
	for i, item := range items {
		name, count, counted := strings.Cut(item, "*")
		f, ok := LookupFault(name)
		if !ok {
			return "", nil, fmt.Errorf("client %q: unknown fault %q; known faults: %s", clientID, name, strings.Join(FaultNames(), ", "))
		}
		st := Step{Fault: f, Times: 1}
		switch {
		case counted && count == "":
			if i != len(items)-1 {
				return "", nil, fmt.Errorf("client %q: %s* answers every request from then on, so nothing may follow it", clientID, name)
			}
			st.Times = Always
		case counted:
			n, err := strconv.Atoi(count)
			if err != nil || n < 1 || strconv.Itoa(n) != count {
				return "", nil, fmt.Errorf("client %q: %q: the count after * must be a whole number from 1 (or nothing, for always)", clientID, item)
			}
			st.Times = n
		}
		steps = append(steps, st)
	}
	return clientID, steps, nil
}

// RequestInfo is what the emulator made of one request, for a request log.
// It never holds a secret or a token.
type RequestInfo struct {
	// Client is the client ID a token request named, or the one the bearer
	// token of a KYC rules request was issued to ("" when it is not one the
	// emulator would accept).
	Client string
	// Scenario is the client's scenario as given (ID=FAULT,…), if it has one.
	Scenario string
	// Fault says which fault answered and why: "-fault 503" for the queue,
	// "503 (1 of 2)" or "503 (always)" for a step of the scenario, "done"
	// for a scenario that is over; "" for a normal answer.
	Fault string
	// Refused says why the emulator refused a request that no fault
	// answered (a wrong secret, an unknown client ID, a missing parameter,
	// an expired token), without quoting the secret or the token.
	Refused string
}

type infoKey struct{}

// Serve is ServeHTTP that also returns what the emulator made of the
// request, once it has been answered.
func (e *Emulator) Serve(w http.ResponseWriter, r *http.Request) RequestInfo {
	info := &RequestInfo{}
	e.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
	return *info
}

// note records something about r for Serve's caller, if there is one.
func note(r *http.Request, f func(*RequestInfo)) {
	if info, ok := r.Context().Value(infoKey{}).(*RequestInfo); ok {
		f(info)
	}
}
