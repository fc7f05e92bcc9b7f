// Package logs builds the logger that every tapwall command shares: zerolog on stderr, JSON lines
// by default or console text for people, with microsecond timestamps (ticks are 16 ms apart).
// Importing it sets zerolog's timestamp format for the whole program.
package logs

import (
	"fmt"
	"io"

	"github.com/rs/zerolog"
)

// TimeFormat is the layout of every log line's time: RFC 3339 with microseconds.
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"

func init() { zerolog.TimeFieldFormat = TimeFormat }

// New returns a logger that writes to w. format is the --log-format flag: "json" (one event per
// line) or "console"; level is the --log-level flag: debug, info, warn or error. A bad value is an
// error naming the flag.
func New(w io.Writer, format, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Nop(), fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	switch format {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	default:
		return zerolog.Nop(), fmt.Errorf("--log-format %q: use json or console", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}
