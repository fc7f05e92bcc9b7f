package input

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Recording is an evemu recording: the device description of its header and its events, each with
// the line it came from (for errors).
type Recording struct {
	File   string
	Info   DeviceInfo
	Events []RawEvent
	Lines  []int
}

// MaxRecordingLine bounds one line of an evemu file; longer lines are malformed.
const MaxRecordingLine = 64 * 1024

// ParseEvemu reads an evemu recording (device description lines N:, I:, P:, B:, A:, L:, S: and
// event lines E:), in the format of evemu 1.0 to 1.3: `A:` lines with or without the resolution,
// times absolute or relative. Comments (#, also after a line's fields) and blank lines are skipped.
// name is used in errors, which read "name:line: reason" and wrap ErrRecording. Event times must
// not go backwards.
func ParseEvemu(r io.Reader, name string) (*Recording, error) {
	rec := &Recording{File: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), MaxRecordingLine)
	bad := func(n int, format string, args ...any) error {
		return fmt.Errorf("%w: %s:%d: %s", ErrRecording, name, n, fmt.Sprintf(format, args...))
	}
	var last int64 = -1 << 62
	haveName := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			return nil, bad(n, "%q is not an evemu line: want N:, I:, P:, B:, A:, L:, S: or E:", truncate(line))
		}
		tag, rest := line[0], strings.TrimSpace(line[2:])
		switch tag {
		case 'N':
			rec.Info.Name = rest
			haveName = true
		case 'I':
			f := strings.Fields(rest)
			if len(f) != 4 {
				return nil, bad(n, "I: wants bus vendor product version in hex, got %q", rest)
			}
			var v [4]uint16
			for i, s := range f {
				x, err := strconv.ParseUint(s, 16, 16)
				if err != nil {
					return nil, bad(n, "I: %q is not a 16-bit hex number", s)
				}
				v[i] = uint16(x)
			}
			rec.Info.Bus, rec.Info.Vendor, rec.Info.Product, rec.Info.Version = v[0], v[1], v[2], v[3]
		case 'P', 'B':
			b, err := hexBytes(rest)
			if err != nil {
				return nil, bad(n, "%c: %v", tag, err)
			}
			if tag == 'P' {
				rec.Info.Props = append(rec.Info.Props, b...)
			} else if len(b) > 0 {
				if rec.Info.Bits == nil {
					rec.Info.Bits = map[uint16][]byte{}
				}
				rec.Info.Bits[uint16(b[0])] = append(rec.Info.Bits[uint16(b[0])], b[1:]...)
			}
		case 'A':
			f := strings.Fields(rest)
			if len(f) != 5 && len(f) != 6 {
				return nil, bad(n, "A: wants code min max fuzz flat [resolution], got %q", rest)
			}
			code, err := strconv.ParseUint(f[0], 16, 16)
			if err != nil || code >= AbsCount {
				return nil, bad(n, "A: axis code %q is not a hex code below 0x%x", f[0], AbsCount)
			}
			var v [5]int32
			for i, s := range f[1:] {
				x, err := strconv.ParseInt(s, 10, 32)
				if err != nil {
					return nil, bad(n, "A: %q is not a 32-bit number", s)
				}
				v[i] = int32(x)
			}
			if v[1] < v[0] {
				return nil, bad(n, "A: axis %s has max %d below min %d", AxisName(uint16(code)), v[1], v[0])
			}
			rec.Info.Abs[code] = AbsInfo{Present: true, Min: v[0], Max: v[1], Fuzz: v[2], Flat: v[3], Resolution: v[4]}
		case 'L', 'S':
			// LED and switch states: not used by a touch frame.
		case 'E':
			ev, err := parseEventLine(rest)
			if err != nil {
				return nil, bad(n, "E: %v", err)
			}
			if ev.TimeUS < last {
				return nil, bad(n, "E: time %s goes back from %s: events must be in recorded order",
					fmtTime(ev.TimeUS), fmtTime(last))
			}
			last = ev.TimeUS
			rec.Events = append(rec.Events, ev)
			rec.Lines = append(rec.Lines, n)
		default:
			return nil, bad(n, "unknown line type %q: want N:, I:, P:, B:, A:, L:, S: or E:", string(tag))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v (a line longer than %d bytes?)", ErrRecording, name, err, MaxRecordingLine)
	}
	if !haveName {
		return nil, fmt.Errorf("%w: %s: no device name (N: line): is this an evemu recording?", ErrRecording, name)
	}
	return rec, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func hexBytes(s string) ([]byte, error) {
	f := strings.Fields(s)
	b := make([]byte, len(f))
	for i, x := range f {
		v, err := strconv.ParseUint(x, 16, 8)
		if err != nil {
			return nil, fmt.Errorf("%q is not a hex byte", x)
		}
		b[i] = byte(v)
	}
	return b, nil
}

// parseEventLine parses "SEC.USEC TYPE CODE VALUE" (type and code in hex, value in decimal).
func parseEventLine(s string) (RawEvent, error) {
	f := strings.Fields(s)
	if len(f) != 4 {
		return RawEvent{}, fmt.Errorf("want time type code value, got %q", truncate(s))
	}
	secS, usecS, ok := strings.Cut(f[0], ".")
	sec, err1 := strconv.ParseInt(secS, 10, 64)
	usec, err2 := strconv.ParseInt(usecS, 10, 64)
	if !ok || err1 != nil || err2 != nil || sec < 0 || usec < 0 || usec > 999_999 || len(usecS) != 6 || sec > 1<<40 {
		return RawEvent{}, fmt.Errorf("time %q is not SECONDS.MICROSECONDS (6 digits)", f[0])
	}
	typ, err := strconv.ParseUint(f[1], 16, 16)
	if err != nil {
		return RawEvent{}, fmt.Errorf("type %q is not a 16-bit hex number", f[1])
	}
	code, err := strconv.ParseUint(f[2], 16, 16)
	if err != nil {
		return RawEvent{}, fmt.Errorf("code %q is not a 16-bit hex number", f[2])
	}
	val, err := strconv.ParseInt(f[3], 10, 32)
	if err != nil {
		return RawEvent{}, fmt.Errorf("value %q is not a 32-bit number", f[3])
	}
	return RawEvent{TimeUS: sec*1_000_000 + usec, Type: uint16(typ), Code: uint16(code), Value: int32(val)}, nil
}

func fmtTime(us int64) string { return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000) }

// WriteEvemuHeader writes the device description of info in evemu 1.3 format.
func WriteEvemuHeader(w io.Writer, info *DeviceInfo) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# EVEMU 1.3\n# Input device name: %q\n", info.Name)
	if info.Path != "" {
		fmt.Fprintf(bw, "# Recorded from %s by tapwall record\n", info.Path)
	}
	fmt.Fprintf(bw, "N: %s\n", info.Name)
	fmt.Fprintf(bw, "I: %04x %04x %04x %04x\n", info.Bus, info.Vendor, info.Product, info.Version)
	props := info.Props
	if len(props) == 0 {
		props = make([]byte, 8)
	}
	fmt.Fprintf(bw, "P:%s\n", hexList(props))
	for t := uint16(0); t < 0x20; t++ {
		if b, ok := info.Bits[t]; ok {
			fmt.Fprintf(bw, "B: %02x%s\n", t, hexList(b))
		}
	}
	for code := uint16(0); code < AbsCount; code++ {
		a := info.Abs[code]
		if a.Present {
			fmt.Fprintf(bw, "A: %02x %d %d %d %d %d\n", code, a.Min, a.Max, a.Fuzz, a.Flat, a.Resolution)
		}
	}
	return bw.Flush()
}

func hexList(b []byte) string {
	var sb strings.Builder
	for _, x := range b {
		fmt.Fprintf(&sb, " %02x", x)
	}
	return sb.String()
}

// AppendEvemuEvent appends one E: line (with its newline) for ev.
func AppendEvemuEvent(b []byte, ev RawEvent) []byte {
	b = append(b, "E: "...)
	b = strconv.AppendInt(b, ev.TimeUS/1_000_000, 10)
	b = append(b, '.')
	us := ev.TimeUS % 1_000_000
	for d := int64(100_000); d > 0; d /= 10 {
		b = append(b, byte('0'+us/d%10))
	}
	b = append(b, ' ')
	b = appendHex4(b, ev.Type)
	b = append(b, ' ')
	b = appendHex4(b, ev.Code)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(ev.Value), 10)
	return append(b, '\n')
}

func appendHex4(b []byte, v uint16) []byte {
	const digits = "0123456789abcdef"
	return append(b, digits[v>>12&0xf], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
}
