//go:build !unix

package proxy

// peekFD cannot peek without blocking here: idle connections are trusted
// until a read says otherwise (the retry rules of direct.go still apply).
func (b *backendConn) peekFD(uintptr) bool {
	b.peekStale = false
	return true
}
