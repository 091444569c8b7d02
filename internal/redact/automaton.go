package redact

import (
	"math"
	"math/bits"
	"slices"
)

// pattern is a secret or a token in the form the redactor matches it, and
// the shortest run of it that counts as a leak.
type pattern struct {
	text   string
	minRun int
	public bool // text others may read (a client ID): its runs are no leak
}

// canon folds what a reader does not tell apart, on both sides of a match:
// ASCII letter case (a gateway that upper-cases what it quotes changes
// nothing a reader needs), and "+" and space, the one ambiguity no decoder
// can settle (in a query string "+" means a space, elsewhere a plus).
func canon(b byte) byte { return canonTable[b] }

var canonTable = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c) + 'a' - 'A'
	}
	t[' '] = '+'
	return t
}()

// automaton is a generalized suffix automaton of the patterns: reading bytes
// from its root it stays alive exactly as long as what it has read is a run
// of consecutive characters of some pattern. Each state knows the shortest
// run length that is a leak of a pattern its strings belong to. It grows
// one pattern at a time (the construction is online), so a new token costs
// its own length, not a rebuild of every pattern; freeze takes an immutable
// snapshot to match with.
//
// Transitions live in one arena of edges, a list per state, and a table for
// the root and for states whose list grew long: a provider process adds a
// secret and a token of a kilobyte (thousands of states, most with one edge)
// and then matches a few short strings, so building must cost little more
// than the patterns' length; one that fetched thousands of tokens has states
// with dozens of edges, which a list would make slow to extend.
type automaton struct {
	length []int32  // the longest string of each state
	link   []int32  // suffix link; -1 at the root
	minRun []int32  // shortest leaking run; math.MaxInt32 when none
	runs   []uint32 // bit m: its strings belong to a pattern whose minRun is m
	public []bool   // its strings occur in public text
	maxRun int      // the largest minRun of any pattern
	first  []int32  // each state's first edge in edges; -1 when none (the root's are in root)
	degree []int32  // each state's number of edges in its list
	table  []int32  // each state's index in tables, once its list grew long; else -1
	edges  []edge
	tables [][256]int32 // -1 where no edge
	root   [256]int32   // the root's transitions; -1 when none
}

// tableEdges is how many edges move a state's transitions to a table.
const tableEdges = 16

// edge is a transition on b to state to; next is the state's next edge, or -1.
type edge struct {
	next, to int32
	b        byte
}

// matcher is a frozen automaton: a table for the root, where every search
// starts, tables for the other states with many edges, and a sorted edge
// list for the rest; and for each state what a walk needs to know of it.
type matcher struct {
	states []mstate
	maxRun int
	root   [256]int32
	tables [][256]int32
	keys   []byte // edges, by state (see mstate.off)
	dest   []int32
}

// mstate is what a walk needs of a state, in one place: it looks at a few
// states per byte.
//
// A leak is a window: a run exactly as long as the minimum run of a pattern
// it belongs to (8 characters of a secret, 16 of a token), not in public
// text; a longer leaking run is the union of its windows.
type mstate struct {
	length, link int32
	// wins has bit m when the state's string of length m is a window.
	wins  uint32
	anc   int32 // the longest window among the strings of its suffix links, or 0
	dense int32 // index in tables, or -1
	off   int32 // its edges are keys[off:] and dest[off:] up to the next state's off
}

// denseEdges is how many edges make a state worth a table.
const denseEdges = 8

func newAutomaton() *automaton {
	a := &automaton{}
	for i := range a.root {
		a.root[i] = -1
	}
	a.addState(0, -1)
	return a
}

// add inserts a pattern, or lowers the minRun of one already there.
func (a *automaton) add(p pattern) {
	// A pattern adds at most two states and three edges per byte.
	a.length = slices.Grow(a.length, 2*len(p.text))
	a.link = slices.Grow(a.link, 2*len(p.text))
	a.minRun = slices.Grow(a.minRun, 2*len(p.text))
	a.public = slices.Grow(a.public, 2*len(p.text))
	a.runs = slices.Grow(a.runs, 2*len(p.text))
	a.first = slices.Grow(a.first, 2*len(p.text))
	a.degree = slices.Grow(a.degree, 2*len(p.text))
	a.table = slices.Grow(a.table, 2*len(p.text))
	a.edges = slices.Grow(a.edges, 3*len(p.text))
	last := int32(0)
	for i := 0; i < len(p.text); i++ {
		last = a.extend(last, canon(p.text[i]))
	}
	// Every substring of the pattern is a suffix of one of its prefixes:
	// walk each prefix's state up its suffix links, lowering minRun, until a
	// state already has one as low (its ancestors do too).
	s := int32(0)
	for i := 0; i < len(p.text); i++ {
		s = a.get(s, canon(p.text[i]))
		if p.public {
			for v := s; v > 0 && !a.public[v]; v = a.link[v] {
				a.public[v] = true
			}
			continue
		}
		for v := s; v > 0 && a.minRun[v] > int32(p.minRun); v = a.link[v] {
			a.minRun[v] = int32(p.minRun)
		}
		for v := s; v > 0 && a.runs[v]&(1<<p.minRun) == 0; v = a.link[v] {
			a.runs[v] |= 1 << p.minRun
		}
	}
	if !p.public {
		a.maxRun = max(a.maxRun, p.minRun)
	}
}

func (a *automaton) addState(length, link int32) int32 {
	a.length = append(a.length, length)
	a.link = append(a.link, link)
	a.minRun = append(a.minRun, math.MaxInt32)
	a.public = append(a.public, false)
	a.runs = append(a.runs, 0)
	a.first = append(a.first, -1)
	a.degree = append(a.degree, 0)
	a.table = append(a.table, -1)
	return int32(len(a.length) - 1)
}

// get is the transition from s on c, or -1.
func (a *automaton) get(s int32, c byte) int32 {
	if s == 0 {
		return a.root[c]
	}
	if t := a.table[s]; t >= 0 {
		return a.tables[t][c]
	}
	for e := a.first[s]; e >= 0; e = a.edges[e].next {
		if a.edges[e].b == c {
			return a.edges[e].to
		}
	}
	return -1
}

// set makes the transition from s on c lead to to.
func (a *automaton) set(s int32, c byte, to int32) {
	if s == 0 {
		a.root[c] = to
		return
	}
	if t := a.table[s]; t >= 0 {
		a.tables[t][c] = to
		return
	}
	for e := a.first[s]; e >= 0; e = a.edges[e].next {
		if a.edges[e].b == c {
			a.edges[e].to = to
			return
		}
	}
	a.edges = append(a.edges, edge{next: a.first[s], to: to, b: c})
	a.first[s] = int32(len(a.edges) - 1)
	if a.degree[s]++; a.degree[s] >= tableEdges {
		a.toTable(s)
	}
}

// toTable moves the transitions of s from its list to a table of its own
// (the list's edges stay in the arena, unused).
func (a *automaton) toTable(s int32) {
	var t [256]int32
	for i := range t {
		t[i] = -1
	}
	for e := a.first[s]; e >= 0; e = a.edges[e].next {
		t[a.edges[e].b] = a.edges[e].to
	}
	a.tables = append(a.tables, t)
	a.table[s], a.first[s] = int32(len(a.tables)-1), -1
}

// clone splits the shorter strings of q into a state of their own. They
// occurred in every pattern q's did (they shared q's class until now), so
// the clone starts with q's minRun and public mark; add updates them for
// the new pattern.
// q is never the root: the root has no incoming transition.
func (a *automaton) clone(q, length int32) int32 {
	c := a.addState(length, a.link[q])
	a.minRun[c], a.public[c], a.runs[c] = a.minRun[q], a.public[q], a.runs[q]
	if t := a.table[q]; t >= 0 {
		a.tables = append(a.tables, a.tables[t])
		a.table[c], a.degree[c] = int32(len(a.tables)-1), a.degree[q]
		return c
	}
	for e := a.first[q]; e >= 0; e = a.edges[e].next {
		a.edges = append(a.edges, edge{next: a.first[c], to: a.edges[e].to, b: a.edges[e].b})
		a.first[c] = int32(len(a.edges) - 1)
	}
	a.degree[c] = a.degree[q]
	return c
}

// extend appends byte c to the string ending in state last (the textbook
// construction, generalized: a transition may already exist when another
// pattern shares the prefix).
func (a *automaton) extend(last int32, c byte) int32 {
	if q := a.get(last, c); q >= 0 {
		if a.length[last]+1 == a.length[q] {
			return q
		}
		cl := a.clone(q, a.length[last]+1)
		for p := last; p != -1 && a.get(p, c) == q; p = a.link[p] {
			a.set(p, c, cl)
		}
		a.link[q] = cl
		return cl
	}
	cur := a.addState(a.length[last]+1, 0)
	p := last
	for ; p != -1; p = a.link[p] {
		if a.get(p, c) >= 0 {
			break
		}
		a.set(p, c, cur)
	}
	if p == -1 {
		return cur
	}
	q := a.get(p, c)
	if a.length[p]+1 == a.length[q] {
		a.link[cur] = q
		return cur
	}
	cl := a.clone(q, a.length[p]+1)
	for ; p != -1 && a.get(p, c) == q; p = a.link[p] {
		a.set(p, c, cl)
	}
	a.link[q], a.link[cur] = cl, cl
	return cur
}

// freeze returns a snapshot to match with: flat, sorted edge lists.
func (a *automaton) freeze() *matcher {
	n := len(a.length)
	// One state more, past the last: where the last state's edges end.
	m := &matcher{maxRun: a.maxRun, root: a.root, states: make([]mstate, n+1)}
	leakTables(a, m.states)
	m.keys = make([]byte, 0, len(a.edges)+256)
	m.dest = make([]int32, 0, len(a.edges)+256)
	tables := 0
	for s := range n {
		st := &m.states[s]
		st.length, st.link, st.dense = a.length[s], a.link[s], -1
		k := 0
		switch {
		case s == 0:
			for _, to := range a.root {
				if to >= 0 {
					k++
				}
			}
		case a.table[s] >= 0:
			for _, to := range a.tables[a.table[s]] {
				if to >= 0 {
					k++
				}
			}
		default:
			k = int(a.degree[s])
		}
		if s > 0 && k >= denseEdges {
			st.dense = int32(tables)
			tables++
		}
		m.states[s+1].off = st.off + int32(k)
	}
	m.tables = make([][256]int32, tables)
	for s := range n {
		lo := len(m.keys)
		var tab *[256]int32
		switch {
		case s == 0:
			tab = &a.root
		case a.table[s] >= 0:
			tab = &a.tables[a.table[s]]
		}
		if tab != nil {
			for b, to := range tab {
				if to >= 0 {
					m.keys, m.dest = append(m.keys, byte(b)), append(m.dest, to)
				}
			}
			if t := m.states[s].dense; t >= 0 {
				m.tables[t] = *tab
			}
			continue
		}
		// The list is newest first; insertion sort it by byte (lists are short).
		for e := a.first[s]; e >= 0; e = a.edges[e].next {
			b, to := a.edges[e].b, a.edges[e].to
			m.keys, m.dest = append(m.keys, b), append(m.dest, to)
			for i := len(m.keys) - 1; i > lo && m.keys[i-1] > b; i-- {
				m.keys[i], m.keys[i-1] = m.keys[i-1], m.keys[i]
				m.dest[i], m.dest[i-1] = m.dest[i-1], m.dest[i]
			}
		}
		if t := m.states[s].dense; t >= 0 {
			tab := &m.tables[t]
			for i := range tab {
				tab[i] = -1
			}
			for i := lo; i < len(m.keys); i++ {
				tab[m.keys[i]] = m.dest[i]
			}
		}
	}
	// Tables answer for every byte, folded or not, so that most steps look
	// up one table, not the fold first.
	foldTable(&m.root)
	for t := range m.tables {
		foldTable(&m.tables[t])
	}
	return m
}

// leakTables sets each state's wins and anc (see mstate). A state's
// suffix links lead to shorter strings, so taking the states by length
// computes each from its link's.
func leakTables(a *automaton, states []mstate) {
	n := len(a.length)
	for s := 1; s < n; s++ {
		if !a.public[s] { // its strings are those longer than its link's
			states[s].wins = a.runs[s] &^ (2<<a.length[a.link[s]] - 1) & (2<<a.length[s] - 1)
		}
	}
	longest := slices.Max(a.length)
	count := make([]int32, longest+2)
	for _, l := range a.length {
		count[l+1]++
	}
	for l := 1; l < len(count); l++ {
		count[l] += count[l-1]
	}
	order := make([]int32, n)
	for s, l := range a.length {
		order[count[l]] = int32(s)
		count[l]++
	}
	for _, s := range order[1:] { // order[0] is the root
		v := &states[a.link[s]]
		states[s].anc = max(v.anc, int32(bits.Len32(v.wins))-1)
	}
}

// foldTable gives each byte the transition of its canonical form.
func foldTable(t *[256]int32) {
	for b := range t {
		t[b] = t[canon(byte(b))]
	}
}

// next is the state after reading b in state s, or -1.
func (m *matcher) next(s int32, b byte) int32 {
	if s == 0 {
		return m.root[b]
	}
	st := &m.states[s]
	if st.dense >= 0 {
		return m.tables[st.dense][b]
	}
	b = canon(b)
	for i, end := st.off, m.states[s+1].off; i < end; i++ {
		if m.keys[i] == b {
			return m.dest[i]
		}
	}
	return -1
}
