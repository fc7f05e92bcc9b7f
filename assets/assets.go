// Package assets holds everything tapwall draws or prints that is not code: the commented default
// configuration, the fonts, and the theme loader (LoadTheme) that reads a show's own look. All of
// it is compiled into the binaries, so they run alone; it links no Ebiten, so the headless CLI
// checks a theme too.
package assets

import (
	_ "embed"

	"golang.org/x/image/font/gofont/gomono"
)

// DefaultConfig is the full default configuration in TOML, with a comment on every key. It must
// decode to game.DefaultConfig(); a test checks that it does.
//
//go:embed default.toml
var DefaultConfig []byte

// FontWall is the wall's typeface unless the theme names one: DejaVu Sans Condensed Bold, a
// broadcast-style face whose condensed digits (a plain zero, figures of one width) keep large
// scores inside narrow lanes and read from 10 m. Its licence is in fonts/LICENSE-DejaVu.txt.
//
//go:embed fonts/DejaVuSansCondensed-Bold.ttf
var FontWall []byte

// FontMono is Go Mono (TrueType), for the operator's corner strip, where columns must line up.
var FontMono = gomono.TTF
