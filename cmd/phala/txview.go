package main

import (
	"fmt"
	"strings"

	"github.com/phala-go/phala/client"
)

// The text forms of query outputs: label/value rows aligned in a column,
// so every query reads alike. The decoding itself is client.DescribeTx's.

// row is one label and its value in a text output.
type row struct{ label, value string }

// rowsText aligns rows' values after their labels, indented by indent.
func rowsText(indent string, rows []row) string {
	width := 0
	for _, r := range rows {
		width = max(width, len(r.label))
	}
	lines := make([]string, len(rows))
	for i, r := range rows {
		if r.value == "" {
			lines[i] = indent + r.label
			continue
		}
		lines[i] = fmt.Sprintf("%s%-*s  %s", indent, width, r.label, r.value)
	}
	return strings.Join(lines, "\n")
}

// fieldLabel is a JSON key as a text label: "identity_key" reads
// "identity key".
func fieldLabel(key string) string { return strings.ReplaceAll(key, "_", " ") }

// fieldRows are the fields the text shows (see client.Field).
func fieldRows(fs client.Fields) []row {
	var rows []row
	for _, f := range fs {
		if f.Text != "" {
			rows = append(rows, row{fieldLabel(f.Key), f.Text})
		}
	}
	return rows
}

// committedTxText is `query tx`'s text: where and how the transaction
// ended, its envelope, then its body.
func committedTxText(t client.CommittedTx) string {
	rows := []row{{"tx", strings.ToUpper(t.Hash)}, {"height", fmt.Sprint(t.Height)}, {"result", t.Summary()}}
	d := t.TxDescription
	if d.Undecodable != "" {
		rows = append(rows, row{"undecodable", fmt.Sprintf("%d bytes: %s", d.Size, d.Undecodable)})
		return rowsText("", rows)
	}
	rows = append(rows,
		row{"method", d.Method},
		row{"sender", d.Sender},
		row{"nonce", fmt.Sprint(d.Nonce)},
		row{"fee", d.FeePHA},
		row{"gas", fmt.Sprintf("%d used of a limit of %d", t.GasUsed, d.GasLimit)})
	head, body := bodyText(d)
	rows = append(rows, row{"body", head})
	text := rowsText("", rows)
	if body != "" {
		text += "\n" + body
	}
	return text
}

// bodyText is the body's heading value and, for a decoded body with
// fields, their indented rows.
func bodyText(d client.TxDescription) (head, rows string) {
	switch {
	case d.BodyError != "":
		return fmt.Sprintf("%d bytes: %s", d.BodySize, d.BodyError), ""
	case !d.KnownMethod():
		return fmt.Sprintf("%d bytes (a method this client does not know)", d.BodySize), ""
	case len(fieldRows(d.Body)) == 0:
		return "empty", ""
	}
	return "", rowsText("  ", fieldRows(d.Body))
}

// blockTxJSON is one transaction of `query block`.
type blockTxJSON struct {
	Hash        string `json:"hash"`
	Method      string `json:"method,omitempty"`
	Sender      string `json:"sender,omitempty"`
	Undecodable string `json:"undecodable,omitempty"`
	Result      string `json:"result"`
	Code        uint32 `json:"code"`
	Codespace   string `json:"codespace,omitempty"`
	Log         string `json:"log,omitempty"`
}

func blockTxOut(t client.CommittedTx) blockTxJSON {
	return blockTxJSON{Hash: t.Hash, Method: t.Method, Sender: t.Sender, Undecodable: t.Undecodable,
		Result: t.Result, Code: t.Code, Codespace: t.Codespace, Log: t.Log}
}

// line is the transaction in one line of a block listing.
func (t blockTxJSON) line() string {
	what := t.Method + "  " + t.Sender
	if t.Undecodable != "" {
		what = "undecodable: " + t.Undecodable
	}
	outcome := client.TxOutcome{Result: t.Result, Code: t.Code, Codespace: t.Codespace, Log: t.Log}
	return fmt.Sprintf("  %s  %s  %s", strings.ToUpper(t.Hash), what, outcome.Summary())
}
