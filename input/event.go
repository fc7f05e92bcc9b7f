package input

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	evdev "github.com/holoplot/go-evdev"
)

// Event types and codes of the kernel's input protocol used by the decoder
// (linux/input-event-codes.h).
const (
	EvSyn = 0x00
	EvKey = 0x01
	EvAbs = 0x03
	EvMsc = 0x04

	SynReport   = 0
	SynMTReport = 2
	SynDropped  = 3

	BtnTouch = 0x14a

	AbsX             = 0x00
	AbsY             = 0x01
	AbsMTSlot        = 0x2f
	AbsMTPositionX   = 0x35
	AbsMTPositionY   = 0x36
	AbsMTTrackingID  = 0x39
	AbsCount         = 0x40 // ABS_CNT: number of absolute axis codes
	RawEventSize     = 24   // sizeof(struct input_event) on 64-bit Linux: timeval (16) + type + code + value
	maxRawEventValue = 1<<31 - 1
)

// Errors of the input package. Each wraps into an error that names the file, line or device.
var (
	// ErrRecording is wrapped by every error about a malformed evemu recording.
	ErrRecording = errors.New("input: bad recording")
	// ErrDevice is wrapped by errors about a device that cannot be used as a touch frame.
	ErrDevice = errors.New("input: unusable device")
	// ErrConfig is wrapped by errors in the [input] and [[frames]] config.
	ErrConfig = errors.New("input: bad config")
)

// RawEvent is one struct input_event: its kernel timestamp in microseconds, type, code and value.
type RawEvent struct {
	TimeUS int64
	Type   uint16
	Code   uint16
	Value  int32
}

// DecodeRaw decodes one kernel struct input_event (64-bit layout, little-endian: tv_sec, tv_usec,
// type, code, value) from b, which must hold at least RawEventSize bytes.
func DecodeRaw(b []byte) RawEvent {
	_ = b[RawEventSize-1]
	sec := int64(binary.LittleEndian.Uint64(b[0:8]))
	usec := int64(binary.LittleEndian.Uint64(b[8:16]))
	return RawEvent{
		TimeUS: sec*1_000_000 + usec,
		Type:   binary.LittleEndian.Uint16(b[16:18]),
		Code:   binary.LittleEndian.Uint16(b[18:20]),
		Value:  int32(binary.LittleEndian.Uint32(b[20:24])),
	}
}

// EncodeRaw writes ev into b (RawEventSize bytes) in the kernel's layout; the inverse of DecodeRaw.
func EncodeRaw(b []byte, ev RawEvent) {
	_ = b[RawEventSize-1]
	binary.LittleEndian.PutUint64(b[0:8], uint64(ev.TimeUS/1_000_000))
	binary.LittleEndian.PutUint64(b[8:16], uint64(ev.TimeUS%1_000_000))
	binary.LittleEndian.PutUint16(b[16:18], ev.Type)
	binary.LittleEndian.PutUint16(b[18:20], ev.Code)
	binary.LittleEndian.PutUint32(b[20:24], uint32(ev.Value))
}

// AbsInfo is the range of one absolute axis, as EVIOCGABS and an evemu `A:` line give it.
type AbsInfo struct {
	Present              bool
	Min, Max, Fuzz, Flat int32
	Resolution           int32 // units per mm (0: unknown)
	Value                int32
}

// DeviceInfo describes an input device: what evemu's header records and what matching a frame
// needs. Abs is indexed by axis code.
type DeviceInfo struct {
	Name                          string
	Phys                          string
	Path                          string
	Links                         []string // /dev/input/by-id and by-path links to Path
	Bus, Vendor, Product, Version uint16
	Props                         []byte
	Abs                           [AbsCount]AbsInfo
	Bits                          map[uint16][]byte // event type -> capability bitmask (evemu B: lines)
}

// HasAbs reports whether the device declares axis code.
func (d *DeviceInfo) HasAbs(code uint16) bool { return int(code) < AbsCount && d.Abs[code].Present }

// AxisCode returns the code of an absolute axis name such as "ABS_MT_POSITION_X" or "ABS_Z".
func AxisCode(name string) (uint16, error) {
	if c, ok := evdev.ABSFromString[strings.ToUpper(strings.TrimSpace(name))]; ok && int(c) < AbsCount {
		return uint16(c), nil
	}
	return 0, fmt.Errorf("unknown axis %q: use a kernel name such as ABS_X, ABS_Z, ABS_RX or ABS_MT_POSITION_X", name)
}

// AxisName returns the kernel name of an absolute axis code, or its number in hex.
func AxisName(code uint16) string {
	if s, ok := evdev.ABSToString[evdev.EvCode(code)]; ok {
		return s
	}
	return fmt.Sprintf("ABS_0x%02x", code)
}

// HasKey reports whether the device declares key (or button) code.
func (d *DeviceInfo) HasKey(code uint16) bool {
	b := d.Bits[EvKey]
	return int(code/8) < len(b) && b[code/8]&(1<<(code%8)) != 0
}

// IsTouchscreen reports whether the device looks like a touch frame: multi-touch positions, or
// two absolute axes with BTN_TOUCH. With no [[frames]] configured, the first such device is used.
func (d *DeviceInfo) IsTouchscreen() bool {
	return (d.HasAbs(AbsMTPositionX) && d.HasAbs(AbsMTPositionY)) || (d.HasAbs(AbsX) && d.HasAbs(AbsY) && d.HasKey(BtnTouch))
}

// ReadEvents reads whole struct input_event records from r until it fails, calling fn for each in
// order; a record split across reads is carried over. It returns the read's error (io.EOF when
// the device is gone). It allocates once, not per event.
func ReadEvents(r io.Reader, fn func(RawEvent)) error {
	buf := make([]byte, RawEventSize*64)
	have := 0
	for {
		n, err := r.Read(buf[have:])
		have += n
		k := 0
		for ; k+RawEventSize <= have; k += RawEventSize {
			fn(DecodeRaw(buf[k:]))
		}
		have = copy(buf, buf[k:have])
		if err != nil {
			return err
		}
	}
}
