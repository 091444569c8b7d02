package redact

import (
	"math"
	"slices"
	"sort"
)

// pattern is a secret or a token in the form the redactor matches it, and
// the shortest run of it that counts as a leak.
type pattern struct {
	text   string
	minRun int
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
type automaton struct {
	length []int32          // the longest string of each state
	link   []int32          // suffix link; -1 at the root
	minRun []int32          // shortest leaking run; math.MaxInt32 when none
	maxRun int              // the largest minRun of any pattern
	build  []map[byte]int32 // transitions
}

// matcher is a frozen automaton: a table for the root, where every search
// starts, tables for the other states with many edges, and a sorted edge
// list for the rest.
type matcher struct {
	minRun []int32
	maxRun int
	root   [256]int32
	dense  []int32 // index in tables of a state with a table, else -1
	tables [][256]int32
	off    []int32 // edges of state s are keys[off[s]:off[s+1]]
	keys   []byte
	dest   []int32
}

// denseEdges is how many edges make a state worth a table.
const denseEdges = 8

func newAutomaton() *automaton {
	a := &automaton{}
	a.addState(0, -1)
	return a
}

// add inserts a pattern, or lowers the minRun of one already there.
func (a *automaton) add(p pattern) {
	last := int32(0)
	for i := 0; i < len(p.text); i++ {
		last = a.extend(last, canon(p.text[i]))
	}
	// Every substring of the pattern is a suffix of one of its prefixes:
	// walk each prefix's state up its suffix links, lowering minRun, until a
	// state already has one as low (its ancestors do too).
	s := int32(0)
	for i := 0; i < len(p.text); i++ {
		s = a.build[s][canon(p.text[i])]
		for v := s; v > 0 && a.minRun[v] > int32(p.minRun); v = a.link[v] {
			a.minRun[v] = int32(p.minRun)
		}
	}
	a.maxRun = max(a.maxRun, p.minRun)
}

func (a *automaton) addState(length, link int32) int32 {
	a.length = append(a.length, length)
	a.link = append(a.link, link)
	a.minRun = append(a.minRun, math.MaxInt32)
	a.build = append(a.build, map[byte]int32{})
	return int32(len(a.length) - 1)
}

// clone splits the shorter strings of q into a state of their own. They
// occurred in every pattern q's did (they shared q's class until now), so
// the clone starts with q's minRun; add lowers it for the new pattern.
func (a *automaton) clone(q, length int32) int32 {
	c := a.addState(length, a.link[q])
	a.minRun[c] = a.minRun[q]
	for b, to := range a.build[q] {
		a.build[c][b] = to
	}
	return c
}

// extend appends byte c to the string ending in state last (the textbook
// construction, generalized: a transition may already exist when another
// pattern shares the prefix).
func (a *automaton) extend(last int32, c byte) int32 {
	if q, ok := a.build[last][c]; ok {
		if a.length[last]+1 == a.length[q] {
			return q
		}
		cl := a.clone(q, a.length[last]+1)
		for p := last; p != -1 && a.build[p][c] == q; p = a.link[p] {
			a.build[p][c] = cl
		}
		a.link[q] = cl
		return cl
	}
	cur := a.addState(a.length[last]+1, 0)
	p := last
	for ; p != -1; p = a.link[p] {
		if _, ok := a.build[p][c]; ok {
			break
		}
		a.build[p][c] = cur
	}
	if p == -1 {
		return cur
	}
	q := a.build[p][c]
	if a.length[p]+1 == a.length[q] {
		a.link[cur] = q
		return cur
	}
	cl := a.clone(q, a.length[p]+1)
	for ; p != -1 && a.build[p][c] == q; p = a.link[p] {
		a.build[p][c] = cl
	}
	a.link[q], a.link[cur] = cl, cl
	return cur
}

// freeze returns a snapshot to match with: flat, sorted edge lists.
func (a *automaton) freeze() *matcher {
	type edge struct {
		from int32
		b    byte
		to   int32
	}
	var edges []edge
	for from, m := range a.build {
		for b, to := range m {
			edges = append(edges, edge{int32(from), b, to})
		}
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].from != edges[j].from {
			return edges[i].from < edges[j].from
		}
		return edges[i].b < edges[j].b
	})
	m := &matcher{minRun: slices.Clone(a.minRun), maxRun: a.maxRun}
	for i := range m.root {
		m.root[i] = -1
	}
	m.off = make([]int32, len(a.length)+1)
	m.keys = make([]byte, len(edges))
	m.dest = make([]int32, len(edges))
	for i, e := range edges {
		m.off[e.from+1]++
		m.keys[i], m.dest[i] = e.b, e.to
		if e.from == 0 {
			m.root[e.b] = e.to
		}
	}
	for s := 1; s < len(m.off); s++ {
		m.off[s] += m.off[s-1]
	}
	m.dense = make([]int32, len(a.length))
	for s := range m.dense {
		m.dense[s] = -1
		if s == 0 || m.off[s+1]-m.off[s] < denseEdges {
			continue
		}
		var t [256]int32
		for i := range t {
			t[i] = -1
		}
		for i := m.off[s]; i < m.off[s+1]; i++ {
			t[m.keys[i]] = m.dest[i]
		}
		m.dense[s] = int32(len(m.tables))
		m.tables = append(m.tables, t)
	}
	return m
}

// next is the state after reading b in state s, or -1.
func (m *matcher) next(s int32, b byte) int32 {
	b = canon(b)
	if s == 0 {
		return m.root[b]
	}
	if t := m.dense[s]; t >= 0 {
		return m.tables[t][b]
	}
	for i := m.off[s]; i < m.off[s+1]; i++ {
		if m.keys[i] == b {
			return m.dest[i]
		}
	}
	return -1
}
