package assets

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font/gofont/goregular"

	"tapwall/game"
)

func writePNG(t *testing.T, path string, w, h int, c color.RGBA) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadCfg writes a config with body into dir and loads it, as the show does.
func loadCfg(t *testing.T, dir, body string) *game.Config {
	t.Helper()
	p := filepath.Join(dir, "show.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := game.LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	return &cfg
}

// TestDefaultThemeIsComplete: with no [theme] the wall gets the built-in colours for every lane
// and no files.
func TestDefaultThemeIsComplete(t *testing.T) {
	cfg := game.DefaultConfig()
	th, err := LoadTheme(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if th.Background != DefaultBackground || len(th.LaneColors) != len(cfg.Lanes) {
		t.Fatalf("default theme %+v", th)
	}
	seen := map[color.RGBA]bool{}
	for i, c := range th.LaneColors {
		if c != DefaultLaneColors[i] || seen[c] {
			t.Fatalf("lane %d colour %v: want the default %v, all different", i, c, DefaultLaneColors[i])
		}
		seen[c] = true
	}
	if th.Font != nil || th.Logo != nil || th.BackgroundImage != nil || th.Target != nil {
		t.Fatalf("default theme loads files: %+v", th)
	}
	if err := CheckFont(FontWall); err != nil {
		t.Fatalf("the built-in wall font: %v", err)
	}
}

// TestThemeFilesLoadRelativeToTheConfig loads a theme whose files sit next to the config: PNG and
// JPEG images, a font, lane colours repeated over the lanes.
func TestThemeFilesLoadRelativeToTheConfig(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "art"), 0o755)
	writePNG(t, filepath.Join(dir, "art", "logo.png"), 40, 20, color.RGBA{1, 2, 3, 255})
	writePNG(t, filepath.Join(dir, "art", "target.png"), 16, 16, color.RGBA{0, 0, 255, 255})
	var jb bytes.Buffer
	jpeg.Encode(&jb, image.NewRGBA(image.Rect(0, 0, 64, 32)), nil)
	os.WriteFile(filepath.Join(dir, "bg.jpg"), jb.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "font.ttf"), goregular.TTF, 0o644)
	cfg := loadCfg(t, dir, `[theme]
background = "#102030"
background_image = "bg.jpg"
lane_colors = ["#ff0000", "#00ff00"]
font = "font.ttf"
logo = "art/logo.png"
target = "art/target.png"
`)
	th, err := LoadTheme(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if th.Background != (color.RGBA{0x10, 0x20, 0x30, 0xff}) {
		t.Errorf("background %v", th.Background)
	}
	want := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {255, 0, 0, 255}, {0, 255, 0, 255}}
	for i, c := range th.LaneColors {
		if c != want[i] {
			t.Errorf("lane %d colour %v, want %v", i, c, want[i])
		}
	}
	if th.Logo == nil || th.Logo.Bounds().Dx() != 40 || th.BackgroundImage == nil || th.BackgroundImage.Bounds().Dx() != 64 {
		t.Errorf("images not loaded: logo %v background %v", th.Logo, th.BackgroundImage)
	}
	if th.Target == nil || th.Packet != nil || !bytes.Equal(th.Font, goregular.TTF) {
		t.Errorf("target %v packet %v font %d bytes", th.Target, th.Packet, len(th.Font))
	}
}

// TestBadThemeFilesAreRefusedNamingTheKey: a missing file, a file that is not an image, a font
// that is not a font, a directory: each is an ErrTheme naming the key and the path.
func TestBadThemeFilesAreRefusedNamingTheKey(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644)
	writePNG(t, filepath.Join(dir, "ok.png"), 4, 4, color.RGBA{255, 255, 255, 255})
	os.Mkdir(filepath.Join(dir, "adir"), 0o755)
	for _, tc := range []struct{ body, key, path string }{
		{`logo = "missing.png"`, "theme.logo", "missing.png"},
		{`background_image = "notes.txt"`, "theme.background_image", "notes.txt"},
		{`font = "ok.png"`, "theme.font", "ok.png"},
		{`golden = "adir"`, "theme.golden", "adir"},
		{`packet = "/nonexistent/packet.png"`, "theme.packet", "/nonexistent/packet.png"},
	} {
		cfg := loadCfg(t, dir, "[theme]\n"+tc.body+"\n")
		_, err := LoadTheme(cfg)
		if !errors.Is(err, ErrTheme) || !strings.Contains(err.Error(), tc.key) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("%s: error %v, want ErrTheme naming %s and %s", tc.body, err, tc.key, tc.path)
		}
	}
}
