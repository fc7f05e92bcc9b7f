package assets

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // theme images may be JPEG
	_ "image/png"  // or PNG
	"os"
	"path/filepath"

	"golang.org/x/image/font/sfnt"

	"tapwall/game"
)

// ErrTheme is wrapped by every error LoadTheme returns: a theme file that is missing, unreadable or
// not what its key needs. The show refuses to start on it (exit 2).
var ErrTheme = errors.New("bad theme")

// Limits on theme files, so a wrong path (a video, a disk image) is refused rather than loaded.
const (
	// MaxThemeImagePixels bounds one theme image: an 8K background is 33 million pixels.
	MaxThemeImagePixels = 8192 * 8192
	// MaxThemeFileBytes bounds one theme file (image or font).
	MaxThemeFileBytes = 64 << 20
)

// DefaultBackground is the colour behind the lanes when the theme names none: a deep night blue
// that makes the lane colours, the gold and the white text glow on camera.
var DefaultBackground = color.RGBA{0x06, 0x08, 0x1a, 0xff}

// DefaultLaneColors are the lanes' colours when the theme names none, in lane order: saturated
// hues that stay apart from their neighbours and from the red and gold of the packets, so two
// lanes side by side never look alike on camera.
var DefaultLaneColors = []color.RGBA{
	{0x00, 0xd2, 0xff, 0xff}, // cyan
	{0xff, 0x3d, 0xa8, 0xff}, // pink
	{0x8d, 0xff, 0x3a, 0xff}, // lime
	{0xa8, 0x7c, 0xff, 0xff}, // violet
	{0xff, 0x9a, 0x1f, 0xff}, // orange
	{0x1d, 0xf2, 0xc0, 0xff}, // aquamarine
	{0x4a, 0x8c, 0xff, 0xff}, // blue
	{0xff, 0x5e, 0x6c, 0xff}, // coral
	{0xe8, 0xf5, 0x3a, 0xff}, // yellow-green
	{0xff, 0x6a, 0xf0, 0xff}, // magenta
	{0x30, 0xff, 0x9a, 0xff}, // mint
	{0x7a, 0xb4, 0xff, 0xff}, // sky
	{0xff, 0xc8, 0x3a, 0xff}, // amber
	{0xc0, 0x8a, 0xff, 0xff}, // lilac
	{0x3a, 0xe8, 0xff, 0xff}, // ice
	{0xff, 0x7a, 0x9a, 0xff}, // rose
}

// Theme is the wall's look as the config's [theme] asks for it, every file read, decoded and
// checked. It holds no GPU resource, so the headless CLI checks a theme too (`tapwall config
// --check`); the window turns it into textures at start.
type Theme struct {
	// Background is the colour behind the lanes.
	Background color.RGBA
	// BackgroundImage, when set, covers the wall (scaled to fill it, centred, keeping its aspect).
	BackgroundImage image.Image
	// LaneColors has one colour per lane of the config: the theme's list repeated, or the defaults.
	LaneColors []color.RGBA
	// Font is a TrueType or OpenType file for all text on the wall; nil: the built-in FontWall.
	Font []byte
	// Logo is shown on the attract screen above the title; nil: the title alone.
	Logo image.Image
	// Target, Packet and Golden replace the built-in art of a target, a red packet and a golden
	// packet; nil: the built-in art.
	Target, Packet, Golden image.Image
}

// LoadTheme reads the theme of cfg (validated): its colours, and its files relative to the config
// file's directory (cfg.Dir). An empty key keeps the built-in look. A file that is missing,
// unreadable, too large or of the wrong kind is an error naming the key and the path.
func LoadTheme(cfg *game.Config) (*Theme, error) {
	tc := cfg.Theme
	th := &Theme{Background: DefaultBackground}
	if tc.Background != "" {
		c, err := game.ParseColor(tc.Background)
		if err != nil {
			return nil, fmt.Errorf("%w: theme.background: %v", ErrTheme, err)
		}
		th.Background = color.RGBA{c[0], c[1], c[2], 0xff}
	}
	palette := DefaultLaneColors
	if len(tc.LaneColors) > 0 {
		palette = make([]color.RGBA, len(tc.LaneColors))
		for i, s := range tc.LaneColors {
			c, err := game.ParseColor(s)
			if err != nil {
				return nil, fmt.Errorf("%w: theme.lane_colors[%d]: %v", ErrTheme, i, err)
			}
			palette[i] = color.RGBA{c[0], c[1], c[2], 0xff}
		}
	}
	n := max(len(cfg.Lanes), 1)
	th.LaneColors = make([]color.RGBA, n)
	for i := range th.LaneColors {
		th.LaneColors[i] = palette[i%len(palette)]
	}
	images := []struct {
		key  string
		path string
		dst  *image.Image
	}{
		{"background_image", tc.BackgroundImage, &th.BackgroundImage},
		{"logo", tc.Logo, &th.Logo},
		{"target", tc.Target, &th.Target},
		{"packet", tc.Packet, &th.Packet},
		{"golden", tc.Golden, &th.Golden},
	}
	for _, im := range images {
		if im.path == "" {
			continue
		}
		img, err := loadImage(themePath(cfg, im.path))
		if err != nil {
			return nil, fmt.Errorf("%w: theme.%s = %q: %v", ErrTheme, im.key, im.path, err)
		}
		*im.dst = img
	}
	if tc.Font != "" {
		b, err := readLimited(themePath(cfg, tc.Font))
		if err == nil {
			err = CheckFont(b)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: theme.font = %q: %v", ErrTheme, tc.Font, err)
		}
		th.Font = b
	}
	return th, nil
}

// themePath resolves a theme path: absolute as given, else relative to the config file.
func themePath(cfg *game.Config, p string) string {
	if filepath.IsAbs(p) || cfg.Dir == "" {
		return p
	}
	return filepath.Join(cfg.Dir, p)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory: name a file", path)
	}
	if st.Size() > MaxThemeFileBytes {
		return nil, fmt.Errorf("%s is %d MiB: a theme file must be under %d MiB", path, st.Size()>>20, MaxThemeFileBytes>>20)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return b, nil
}

// loadImage decodes a PNG or JPEG file, refusing other formats and images too large to upload.
func loadImage(path string) (image.Image, error) {
	b, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s is not a PNG or JPEG image (%v)", path, err)
	}
	if format != "png" && format != "jpeg" {
		return nil, fmt.Errorf("%s is a %s image: use PNG or JPEG", path, format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxThemeImagePixels {
		return nil, fmt.Errorf("%s is %dx%d pixels: use an image of at most %d pixels", path, cfg.Width, cfg.Height, MaxThemeImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: decoding the %s image: %v", path, format, err)
	}
	return img, nil
}

// CheckFont reports whether b is a TrueType or OpenType font the wall can draw with: it parses
// and has the glyphs of digits and Latin capitals (scores, timer, results).
func CheckFont(b []byte) error {
	f, err := sfnt.Parse(b)
	if err != nil {
		return fmt.Errorf("not a TrueType or OpenType font (%v): use a .ttf or .otf file", err)
	}
	var buf sfnt.Buffer
	for _, r := range "0123456789+:ABCDEFGHIJKLMNOPQRSTUVWXYZ" {
		gi, err := f.GlyphIndex(&buf, r)
		if err != nil || gi == 0 {
			return fmt.Errorf("the font has no glyph for %q: the wall needs digits and capitals", r)
		}
	}
	return nil
}
