// Package assets holds everything tapwall draws or prints that is not code: the commented default
// configuration and the fonts. All of it is compiled into the binaries, so they run alone.
package assets

import (
	_ "embed"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

// DefaultConfig is the full default configuration in TOML, with a comment on every key. It must
// decode to game.DefaultConfig(); a test checks that it does.
//
//go:embed default.toml
var DefaultConfig []byte

// Font files (TrueType) of the Go font family, for the wall and the operator HUD.
var (
	// FontRegular is Go Regular, for lane names and banners.
	FontRegular = goregular.TTF
	// FontBold is Go Bold, for scores and the timer.
	FontBold = gobold.TTF
	// FontMono is Go Mono, for the operator HUD, where columns must line up.
	FontMono = gomono.TTF
)
