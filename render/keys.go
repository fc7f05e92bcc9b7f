package render

import (
	"strconv"

	"github.com/hajimehoshi/ebiten/v2"
)

// keyNames maps the window's keys to the kernel's key names, so one keymap serves the window and
// the evdev keyboards on the operator desk.
var keyNames = func() map[ebiten.Key]string {
	m := map[ebiten.Key]string{
		ebiten.KeySpace: "KEY_SPACE", ebiten.KeyEnter: "KEY_ENTER", ebiten.KeyEscape: "KEY_ESC", ebiten.KeyTab: "KEY_TAB",
		ebiten.KeyBackspace: "KEY_BACKSPACE", ebiten.KeyDelete: "KEY_DELETE", ebiten.KeyInsert: "KEY_INSERT",
		ebiten.KeyHome: "KEY_HOME", ebiten.KeyEnd: "KEY_END", ebiten.KeyPageUp: "KEY_PAGEUP", ebiten.KeyPageDown: "KEY_PAGEDOWN",
		ebiten.KeyArrowLeft: "KEY_LEFT", ebiten.KeyArrowRight: "KEY_RIGHT", ebiten.KeyArrowUp: "KEY_UP", ebiten.KeyArrowDown: "KEY_DOWN",
		ebiten.KeyNumpadAdd: "KEY_KPPLUS", ebiten.KeyNumpadSubtract: "KEY_KPMINUS", ebiten.KeyNumpadEnter: "KEY_KPENTER",
		ebiten.KeyNumpadMultiply: "KEY_KPASTERISK", ebiten.KeyNumpadDivide: "KEY_KPSLASH", ebiten.KeyNumpadDecimal: "KEY_KPDOT",
		ebiten.KeyMinus: "KEY_MINUS", ebiten.KeyEqual: "KEY_EQUAL", ebiten.KeyComma: "KEY_COMMA", ebiten.KeyPeriod: "KEY_DOT",
		ebiten.KeySlash: "KEY_SLASH", ebiten.KeySemicolon: "KEY_SEMICOLON", ebiten.KeyPause: "KEY_PAUSE",
	}
	for k := ebiten.KeyA; k <= ebiten.KeyZ; k++ {
		m[k] = "KEY_" + string(rune('A'+k-ebiten.KeyA))
	}
	for i := 0; i <= 9; i++ {
		m[ebiten.KeyDigit0+ebiten.Key(i)] = "KEY_" + string(rune('0'+i))
		m[ebiten.KeyNumpad0+ebiten.Key(i)] = "KEY_KP" + string(rune('0'+i))
	}
	for i := 0; i < 12; i++ {
		m[ebiten.KeyF1+ebiten.Key(i)] = "KEY_F" + strconv.Itoa(i+1)
	}
	return m
}()

// KeyName returns the kernel name of a window key ("KEY_SPACE"), or "" for a key tapwall ignores.
func KeyName(k ebiten.Key) string { return keyNames[k] }
