package main

import (
	"bytes"
	"errors"
	"fmt"
)

// The generated part of a hand-written document lies between these lines;
// everything outside them stays as written.
const (
	beginMarker = "<!-- abigen:begin -->\n"
	endMarker   = "<!-- abigen:end -->\n"
)

var errMarkers = errors.New("want exactly one " + beginMarker[:len(beginMarker)-1] + " line, then one " + endMarker[:len(endMarker)-1] + " line")

// replaceSection returns doc with the text between the markers replaced by
// body.
func replaceSection(doc []byte, body string) ([]byte, error) {
	if bytes.Count(doc, []byte(beginMarker)) != 1 || bytes.Count(doc, []byte(endMarker)) != 1 {
		return nil, errMarkers
	}
	start := bytes.Index(doc, []byte(beginMarker)) + len(beginMarker)
	end := bytes.Index(doc, []byte(endMarker))
	if end < start {
		return nil, fmt.Errorf("%w (end comes first)", errMarkers)
	}
	out := append([]byte(nil), doc[:start]...)
	out = append(out, body...)
	return append(out, doc[end:]...), nil
}
