package logs

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestJSONLinesWithMicrosecondsAndTheLevelApplied(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "json", "warn")
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Msg("hidden")
	log.Warn().Int64("tick", 42).Msg("shown")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want only the warning: %q", len(lines), buf.String())
	}
	var ev struct {
		Level, Message, Time string
		Tick                 int64
	}
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Level != "warn" || ev.Message != "shown" || ev.Tick != 42 {
		t.Fatalf("line %s", lines[0])
	}
	if _, err := time.Parse(TimeFormat, ev.Time); err != nil || len(ev.Time) < len("2006-01-02T15:04:05.000000") {
		t.Fatalf("time %q is not RFC 3339 with microseconds: %v", ev.Time, err)
	}
}

func TestConsoleFormatIsNotJSON(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "console", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Msg("round started")
	if out := buf.String(); !strings.Contains(out, "round started") || strings.HasPrefix(out, "{") {
		t.Fatalf("console output %q", out)
	}
}

func TestBadValuesNameTheFlag(t *testing.T) {
	for _, tc := range []struct{ format, level, flag string }{
		{"xml", "info", "--log-format"},
		{"json", "loud", "--log-level"},
		{"json", "", "--log-level"},
	} {
		if _, err := New(&bytes.Buffer{}, tc.format, tc.level); err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("New(%q, %q): error %v, want one naming %s", tc.format, tc.level, err, tc.flag)
		}
	}
}
