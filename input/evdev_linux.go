package input

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"

	evdev "github.com/holoplot/go-evdev"
	"golang.org/x/sys/unix"
)

// DevInputDir is where the kernel's input device nodes live.
const DevInputDir = "/dev/input"

// ioctl numbers of linux/input.h not wrapped by go-evdev.
const (
	iocWrite      = 1
	iocRead       = 2
	evioCSClockID = iocWrite<<30 | 4<<16 | 'E'<<8 | 0xa0 // EVIOCSCLOCKID: select the event clock
	evioCGrab     = iocWrite<<30 | 4<<16 | 'E'<<8 | 0x90 // EVIOCGRAB: exclusive access
)

// evioCGMTSlots is EVIOCGMTSLOTS(size): size bytes of struct input_mt_request_layout (an axis code,
// then one value per slot).
func evioCGMTSlots(size int) uint { return uint(iocRead<<30 | size<<16 | 'E'<<8 | 0x0a) }

// evioCGAbs is EVIOCGABS(code): struct input_absinfo (value, min, max, fuzz, flat, resolution).
func evioCGAbs(code uint16) uint { return uint(iocRead<<30 | 24<<16 | 'E'<<8 | (0x40 + int(code))) }

// EvdevOpener opens real devices under Dir (DevInputDir when empty) with go-evdev for their
// description and a plain file descriptor for reading, switched to CLOCK_MONOTONIC.
type EvdevOpener struct{ Dir string }

func (o EvdevOpener) dir() string {
	if o.Dir == "" {
		return DevInputDir
	}
	return o.Dir
}

// OpenError explains why a device could not be opened, with what to do about it.
func OpenError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %s: permission denied: add the show's user to the \"input\" group (sudo usermod -aG input $USER, then log in again) or add a udev rule such as SUBSYSTEM==\"input\", ENV{ID_INPUT_TOUCHSCREEN}==\"1\", MODE=\"0660\", GROUP=\"input\"", ErrDevice, path)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s: no such device: is the frame plugged in and powered? `tapwall devices` lists what is there", ErrDevice, path)
	}
	return fmt.Errorf("%w: %s: %v", ErrDevice, path, err)
}

// List describes every event device under the directory. A directory that does not exist (no input
// subsystem, a container) gives an error saying so.
func (o EvdevOpener) List() ([]DeviceInfo, error) {
	paths, err := filepath.Glob(filepath.Join(o.dir(), "event*"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(o.dir()); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist: this machine has no input devices (a container or VM without them?)", ErrDevice, o.dir())
		}
		return nil, OpenError(o.dir(), err)
	}
	links := map[string][]string{}
	for _, sub := range []string{"by-id", "by-path"} {
		ents, _ := os.ReadDir(filepath.Join(o.dir(), sub))
		for _, e := range ents {
			l := filepath.Join(o.dir(), sub, e.Name())
			if t, err := filepath.EvalSymlinks(l); err == nil {
				links[t] = append(links[t], l)
			}
		}
	}
	sort.Strings(paths)
	var out []DeviceInfo
	for _, p := range paths {
		info, err := describe(p)
		if err != nil {
			continue // unreadable devices are reported when a frame wants them
		}
		info.Links = links[p]
		out = append(out, *info)
	}
	return out, nil
}

// evdevDescriber is what describe reads through go-evdev: *evdev.InputDevice, a fake in tests.
type evdevDescriber interface {
	Name() (string, error)
	PhysicalLocation() (string, error)
	InputID() (evdev.InputID, error)
	AbsInfos() (map[evdev.EvCode]evdev.AbsInfo, error)
	CapableTypes() []evdev.EvType
	CapableEvents(t evdev.EvType) []evdev.EvCode
	Properties() []evdev.EvProp
}

// describe reads a device's name, ids, axes and capabilities through go-evdev.
func describe(path string) (*DeviceInfo, error) {
	d, err := evdev.OpenWithFlags(path, os.O_RDONLY)
	if err != nil {
		return nil, OpenError(path, err)
	}
	defer d.Close()
	return describeFrom(path, d)
}

// describeFrom builds the description of the device at path from what d reports. A device whose
// axes cannot be read is an error: without them no touch can be placed on the wall.
func describeFrom(path string, d evdevDescriber) (*DeviceInfo, error) {
	info := &DeviceInfo{Path: path, Bits: map[uint16][]byte{}}
	info.Name, _ = d.Name()
	info.Phys, _ = d.PhysicalLocation()
	if id, err := d.InputID(); err == nil {
		info.Bus, info.Vendor, info.Product, info.Version = id.BusType, id.Vendor, id.Product, id.Version
	}
	abs, err := d.AbsInfos()
	if err != nil {
		return nil, fmt.Errorf("%w: %s (%q): cannot read its axes (EVIOCGBIT/EVIOCGABS): %v: unplug and replug the device, and check `tapwall devices`", ErrDevice, path, info.Name, err)
	}
	for code, a := range abs {
		if int(code) < AbsCount {
			info.Abs[code] = AbsInfo{Present: true, Min: a.Minimum, Max: a.Maximum, Fuzz: a.Fuzz, Flat: a.Flat, Resolution: a.Resolution, Value: a.Value}
		}
	}
	for _, t := range d.CapableTypes() {
		var bits []byte
		for _, c := range d.CapableEvents(t) {
			for int(c/8) >= len(bits) {
				bits = append(bits, 0)
			}
			bits[c/8] |= 1 << (c % 8)
		}
		info.Bits[uint16(t)] = bits
	}
	for _, p := range d.Properties() {
		for int(p/8) >= len(info.Props) {
			info.Props = append(info.Props, 0)
		}
		info.Props[p/8] |= 1 << (p % 8)
	}
	return info, nil
}

// Open opens path for reading with kernel timestamps on CLOCK_MONOTONIC, optionally grabbed.
func (o EvdevOpener) Open(path string, grab bool) (Device, error) {
	info, err := describe(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, OpenError(path, err)
	}
	d := &evdevDevice{f: f, info: info}
	if err := d.ioctlInt(evioCSClockID, unix.CLOCK_MONOTONIC); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: cannot switch to CLOCK_MONOTONIC: %v", ErrDevice, path, err)
	}
	if info.HasAbs(AbsMTSlot) { // the slot as of this descriptor's opening, as libevdev reads it
		if v, err := d.AbsValue(AbsMTSlot); err == nil {
			info.Abs[AbsMTSlot].Value = v
		}
	}
	if grab {
		if err := d.ioctlInt(evioCGrab, 1); err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %s: cannot grab (another program holds it? set grab = false): %v", ErrDevice, path, err)
		}
	}
	return d, nil
}

type evdevDevice struct {
	f    *os.File
	info *DeviceInfo
}

// Info describes the device, as read when it was opened.
func (d *evdevDevice) Info() *DeviceInfo { return d.info }

// Read reads raw events; it blocks until some arrive.
func (d *evdevDevice) Read(p []byte) (int, error) { return d.f.Read(p) }

// Close closes the device, ending a blocked Read.
func (d *evdevDevice) Close() error { return d.f.Close() }

func (d *evdevDevice) ioctlInt(req uint, v int32) error { return d.ioctl(req, unsafe.Pointer(&v)) }

// ioctl runs one ioctl on the device with argument p.
func (d *evdevDevice) ioctl(req uint, p unsafe.Pointer) error {
	rc, err := d.f.SyscallConn()
	if err != nil {
		return err
	}
	var errno unix.Errno
	cerr := rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, uintptr(req), uintptr(p))
	})
	if cerr != nil {
		return cerr
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// MTSlots is EVIOCGMTSLOTS: the kernel writes one axis's value of each of the device's slots that
// fits after buf[0], the axis code, and leaves the rest of buf alone.
func (d *evdevDevice) MTSlots(buf []int32) error {
	if len(buf) < 2 {
		return fmt.Errorf("EVIOCGMTSLOTS: buffer of %d values holds no slot", len(buf))
	}
	return d.ioctl(evioCGMTSlots(4*len(buf)), unsafe.Pointer(&buf[0]))
}

// AbsValue is EVIOCGABS(code)'s current value.
func (d *evdevDevice) AbsValue(code uint16) (int32, error) {
	var a [6]int32 // struct input_absinfo: value first
	if int(code) >= AbsCount {
		return 0, fmt.Errorf("EVIOCGABS: axis code 0x%x out of range", code)
	}
	err := d.ioctl(evioCGAbs(code), unsafe.Pointer(&a[0]))
	return a[0], err
}

// DescribeProtocol is a one-word summary of how a device reports touches, for `tapwall devices`.
func DescribeProtocol(info *DeviceInfo) string {
	if !info.IsTouchscreen() {
		return "none"
	}
	return strings.ToLower(DetectProtocol(info).String())
}
