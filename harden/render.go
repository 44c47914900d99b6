package harden

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// marks are the symbols of each verdict in text output.
var marks = map[Status]string{Pass: "✓", Warn: "!", Fail: "✗", Unknown: "?"}

// WriteText writes the reports as the checklist people read: one line per
// item with its mark, and the fix under each item that did not pass.
func WriteText(w io.Writer, reports []Report) error {
	var b strings.Builder
	for i, r := range reports {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s (%s)\n", r.Name, r.Origin)
		failed := 0
		for _, it := range r.Items {
			opt := ""
			if !it.Required {
				opt = " [advice]"
			}
			fmt.Fprintf(&b, "  %s %s: %s%s\n", marks[it.Status], it.Title, it.Detail, opt)
			if it.Status != Pass && it.Fix != "" {
				fmt.Fprintf(&b, "      fix: %s\n", it.Fix)
			}
			if it.Required && it.Status != Pass && it.Status != Warn {
				failed++
			}
		}
		if r.OK {
			fmt.Fprintf(&b, "%s: every required item passes\n", r.Name)
		} else {
			fmt.Fprintf(&b, "%s: %d required item(s) not passed\n", r.Name, failed)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// UsernsFromInfo reads `docker info --format '{{json .}}'`: user-namespace
// remapping is on when its SecurityOptions hold name=userns. known is false
// when the JSON has no SecurityOptions.
func UsernsFromInfo(data []byte) (on, known bool, err error) {
	var info struct {
		SecurityOptions *[]string `json:"SecurityOptions"`
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return false, false, fmt.Errorf("%w: docker info JSON: %w", ErrInput, err)
	}
	if info.SecurityOptions == nil {
		return false, false, nil
	}
	for _, o := range *info.SecurityOptions {
		for _, kv := range strings.Split(o, ",") {
			if kv == "name=userns" {
				return true, true, nil
			}
		}
	}
	return false, true, nil
}
