package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

var outputFormat string

func checkOutputFormat() error {
	switch outputFormat {
	case "text", "json", "":
		return nil
	}
	return fmt.Errorf("unknown --output %q (want text or json)", outputFormat)
}

// emit prints v as indented JSON with --output json, else the text lines.
func emit(v any, text func() string) error {
	switch outputFormat {
	case "json":
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "text", "":
		fmt.Println(strings.TrimRight(text(), "\n"))
		return nil
	}
	return fmt.Errorf("unknown --output %q (want text or json)", outputFormat)
}

// selfCommand is how the user invoked this binary, for printed examples:
// "go run ./cmd/phala" when run through go run, else the binary name.
func selfCommand() string {
	exe := os.Args[0]
	if strings.Contains(exe, "go-build") {
		return "go run ./cmd/phala"
	}
	if filepath.Base(exe) == exe {
		return exe
	}
	return exe
}

func defaultDir(sub string) string {
	if h := os.Getenv("PHALA_HOME"); h != "" {
		return filepath.Join(h, sub)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".phala", sub)
	}
	return filepath.Join(home, ".phala", sub)
}
