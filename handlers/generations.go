package handlers

import "sync"

// generations is a map bounded by keeping two generations of keys. New
// keys go into the current one; when it holds its limit, it becomes the
// previous one and the one before is dropped. A key found only in the
// previous generation is moved back by its caller (put), so that what is
// asked for at least once per limit new keys stays, whatever else arrives,
// and memory stays bounded at twice the limit. Its zero value is empty and
// ready to use.
type generations[V any] struct {
	mu                sync.RWMutex
	current, previous map[string]V
}

// lookup finds key; previous says it is only in the previous generation.
func (g *generations[V]) lookup(key string) (v V, previous, ok bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if v, ok = g.current[key]; ok {
		return v, false, true
	}
	v, ok = g.previous[key]
	return v, ok, ok
}

// put keeps v under key in the current generation, first starting a new
// one if key is new and the current one holds limit keys.
func (g *generations[V]) put(key string, v V, limit int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.current == nil {
		g.current = make(map[string]V)
	}
	if _, ok := g.current[key]; !ok && len(g.current) >= limit {
		g.previous, g.current = g.current, make(map[string]V, limit)
	}
	g.current[key] = v
}

// sizes is how many keys each generation holds, for tests.
func (g *generations[V]) sizes() (current, previous int) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.current), len(g.previous)
}
