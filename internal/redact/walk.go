package redact

import "math/bits"

// ringSize bounds the runs a walk tracks: at least the longest minimum run
// (a token's 16), a power of two.
const ringSize = 16

// marks has a bit per byte of the input: part of a leak.
type marks []uint64

func newMarks(n int) marks { return make(marks, (n+63)/64) }

// set marks bytes from..to.
func (mk marks) set(from, to int) {
	for from < to && from&63 != 0 {
		mk[from>>6] |= 1 << (from & 63)
		from++
	}
	for ; from+64 <= to; from += 64 {
		mk[from>>6] = ^uint64(0)
	}
	for ; from < to; from++ {
		mk[from>>6] |= 1 << (from & 63)
	}
}

func (mk marks) has(i int) bool { return mk[i>>6]&(1<<(i&63)) != 0 }

// any reports a marked byte.
func (mk marks) any() bool {
	for _, w := range mk {
		if w != 0 {
			return true
		}
	}
	return false
}

// walk reads the window w of r through the automaton, once, as v reads it,
// and marks in mk the input spans of the runs that leak. inputLen is the input's length. Past w.last, the end of the last
// change in w, it stops as soon as the run it tracks no longer reaches back
// to that change: every run after that was read in an earlier reading.
//
// At each byte it keeps the longest suffix of what it read that is a run of
// a pattern (following suffix links where the run breaks, so the cost is
// amortised constant per byte), capped at the longest minimum run, and
// marks the longest leaking window that ends there (see mstate): their
// union is every leak.
func (m *matcher) walk(r *reading, w span, v view, inputLen int, mk marks) {
	maxRun := int32(m.maxRun)
	hi := min(int(w.to), len(r.b))
	kLast := -1              // bytes read before w.last
	var ring [ringSize]int32 // where the last bytes read are in r.b
	k := 0                   // bytes read
	s, n := int32(0), int32(0)
	open, last, covered := -1, -1, 0 // the span being marked, r.b[open..last]; bytes read it covers
	for i := int(w.from); i < hi; i++ {
		if v != asRead && r.skippedIn(v, i) {
			continue
		}
		if i >= int(w.last) && kLast < 0 {
			kLast = k
		}
		c := r.b[i]
		ring[k&(ringSize-1)] = int32(i)
		k++
		for {
			if t := m.next(s, c); t >= 0 {
				s, n = t, n+1
				break
			}
			if s == 0 {
				n = 0
				break
			}
			s = m.states[s].link
			n = m.states[s].length
		}
		if n > maxRun {
			for m.states[m.states[s].link].length >= maxRun {
				s = m.states[s].link
			}
			n = maxRun
		}
		st := &m.states[s]
		leak := max(st.anc, int32(bits.Len32(st.wins&(2<<n-1)))-1)
		if kLast >= 0 && int(n) <= k-kLast {
			break // the run no longer holds the last change: nor will any later one
		}
		if leak == 0 {
			continue
		}
		first := k - int(leak) // the run's first byte, counted in bytes read
		at := int(ring[first&(ringSize-1)])
		switch {
		case open >= 0 && first <= covered: // joins the span being marked
			open = min(open, at)
		default:
			if open >= 0 {
				mk.set(r.start(open), r.end(last, inputLen))
			}
			open = at
		}
		last, covered = i, k
	}
	if open >= 0 {
		mk.set(r.start(open), r.end(last, inputLen))
	}
}

// windows are the parts of a reading a walk must read: around each place
// where it differs from a reading already walked, as far as a run that
// holds that place can reach. Elsewhere every run is one already read.
// They are added in order and merged as they come.
type windows struct {
	margin int // how far a run reaches: the longest tracked run
	spans  []span
}

// span is a window: bytes from..to, changed up to last.
type span struct{ from, to, last int32 }

// add notes bytes from..to as changed (from == to: the bytes on either
// side of from now meet).
func (w *windows) add(from, to int) {
	last := int32(max(to, from+1))
	lo, hi := int32(max(from-w.margin, 0)), last+int32(w.margin)
	if n := len(w.spans); n > 0 && lo <= w.spans[n-1].to {
		w.spans[n-1].to, w.spans[n-1].last = max(w.spans[n-1].to, hi), max(w.spans[n-1].last, last)
		return
	}
	w.spans = append(w.spans, span{lo, hi, last})
}

func newWindows(most int) windows { return windows{spans: make([]span, 0, most)} }

// reset empties w for changes that reach margin bytes, and returns it.
func (w *windows) reset(margin int) *windows {
	w.margin, w.spans = margin, w.spans[:0]
	return w
}

// end is where the last change ends, 0 when there is none.
func (w *windows) end() int {
	if len(w.spans) == 0 {
		return 0
	}
	return int(w.spans[len(w.spans)-1].last)
}
