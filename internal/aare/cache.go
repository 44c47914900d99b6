package aare

import (
	"container/list"
	"sync"
)

// Cache compiles globs once and keeps up to a fixed number of them, evicting
// the least recently used. It is safe for concurrent use. Compile errors are
// cached too, so a bad pattern is not reparsed on every call.
type Cache struct {
	mu      sync.Mutex
	max     int
	items   map[string]*list.Element
	order   *list.List // front: most recently used
	compile func(key string) (*Glob, error)
}

type cacheEntry struct {
	pattern string
	glob    *Glob
	err     error
}

// NewCache returns a cache holding at most max compiled globs (at least 1),
// compiling patterns with Compile.
func NewCache(max int) *Cache { return NewCacheFunc(max, Compile) }

// NewCacheFunc is NewCache with its own compile step, for callers whose
// keys are not plain patterns (a pattern before variable expansion, a
// pattern with its flavour).
func NewCacheFunc(max int, compile func(key string) (*Glob, error)) *Cache {
	if max < 1 {
		max = 1
	}
	return &Cache{max: max, items: map[string]*list.Element{}, order: list.New(), compile: compile}
}

// Compile returns the compiled glob for pattern (a key, for NewCacheFunc),
// compiling it on first use.
func (c *Cache) Compile(pattern string) (*Glob, error) {
	c.mu.Lock()
	if el, ok := c.items[pattern]; ok {
		c.order.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		c.mu.Unlock()
		return e.glob, e.err
	}
	c.mu.Unlock()
	g, err := c.compile(pattern) // outside the lock: compiling may take a while
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[pattern]; ok {
		c.order.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		return e.glob, e.err
	}
	c.items[pattern] = c.order.PushFront(&cacheEntry{pattern: pattern, glob: g, err: err})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).pattern)
	}
	return g, err
}

// Len returns how many globs the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// Match matches path against pattern through the cache.
func (c *Cache) Match(pattern, path string) (bool, error) {
	g, err := c.Compile(pattern)
	if err != nil {
		return false, err
	}
	return g.Match(path), nil
}
