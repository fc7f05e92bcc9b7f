package input

import (
	"errors"
	"strings"
	"testing"

	evdev "github.com/holoplot/go-evdev"
)

// fakeDescriber is what go-evdev reports of a device; AbsInfos fails with absErr when set.
type fakeDescriber struct{ absErr error }

func (fakeDescriber) Name() (string, error)             { return "Wall Frame Left", nil }
func (fakeDescriber) PhysicalLocation() (string, error) { return "usb-0000:00:14.0-2/input0", nil }
func (fakeDescriber) InputID() (evdev.InputID, error) {
	return evdev.InputID{BusType: 3, Vendor: 0x0eef, Product: 0x0001}, nil
}
func (f fakeDescriber) AbsInfos() (map[evdev.EvCode]evdev.AbsInfo, error) {
	if f.absErr != nil {
		return nil, f.absErr
	}
	return map[evdev.EvCode]evdev.AbsInfo{
		AbsMTPositionX: {Maximum: 4095}, AbsMTPositionY: {Maximum: 4095}, AbsMTSlot: {Maximum: 9, Value: 3},
	}, nil
}
func (fakeDescriber) CapableTypes() []evdev.EvType { return []evdev.EvType{EvSyn, EvAbs} }
func (fakeDescriber) CapableEvents(evdev.EvType) []evdev.EvCode {
	return []evdev.EvCode{AbsMTSlot, AbsMTPositionX, AbsMTPositionY}
}
func (fakeDescriber) Properties() []evdev.EvProp { return nil }

// TestDescribeReportsUnreadableAxes: a device whose axes cannot be read is an error naming the
// path and the device, not a device with no axes that later "declares no axes".
func TestDescribeReportsUnreadableAxes(t *testing.T) {
	info, err := describeFrom("/dev/input/event7", fakeDescriber{})
	if err != nil || !info.HasAbs(AbsMTPositionX) || info.Abs[AbsMTSlot].Value != 3 || info.Vendor != 0x0eef {
		t.Fatalf("a readable device: %+v, %v", info, err)
	}
	_, err = describeFrom("/dev/input/event7", fakeDescriber{absErr: errors.New("cannot get absBits: inappropriate ioctl for device")})
	if err == nil || !errors.Is(err, ErrDevice) || !strings.Contains(err.Error(), "/dev/input/event7") ||
		!strings.Contains(err.Error(), `"Wall Frame Left"`) || !strings.Contains(err.Error(), "inappropriate ioctl") {
		t.Fatalf("unreadable axes: %v; want an ErrDevice naming the path, the device and the cause", err)
	}
}
