package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the watch-party screen handles. Keys marked host-only are still matched on
// a follower's screen, so that pressing one says it is for the host; the help only lists the keys
// that apply to the user's role.
type KeyMap struct {
	PlayPause   key.Binding // host only
	Back        key.Binding // host only: -5 s
	Forward     key.Binding // host only: +5 s
	BackLong    key.Binding // host only: -60 s
	ForwardLong key.Binding // host only: +60 s
	Jump        key.Binding // host only: 0–9 jump to 0–90 %
	SyncToLive  key.Binding // follower only
	Handover    key.Binding // host only: hand the host role to a member picked by number
	EndWait     key.Binding // host only: don't wait for the buffering members
	Moderate    key.Binding // host only: co-host, remove or ban a member picked by number
	Invite      key.Binding // show the invite link (the command friends join with)
	OSD         key.Binding // comments and room events on mpv's OSD, off or on
	Ready       key.Binding // my answer to the ready check, on or off
	ReadyMode   key.Binding // host only: the room's ready check on or off
	Comment     key.Binding // focus the comment input
	Send        key.Binding // in the input: send, and back to the keys
	LeaveInput  key.Binding // in the input: back to the keys, keeping what was typed
	PageUp      key.Binding
	PageDown    key.Binding
	Latest      key.Binding
	Help        key.Binding
	Quit        key.Binding
	ForceQuit   key.Binding // ctrl+c works everywhere, the input included
}

// Seek steps, in seconds.
const (
	shortSeek = 5
	longSeek  = 60
)

// DefaultKeyMap returns a fresh key map with the default bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		PlayPause:   key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "play/pause")),
		Back:        key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "back/forward 5 s")),
		Forward:     key.NewBinding(key.WithKeys("right"), key.WithHelp("→", "+5 s")),
		BackLong:    key.NewBinding(key.WithKeys("shift+left", "down"), key.WithHelp("⇧←/⇧→ ↓/↑", "back/forward 60 s")),
		ForwardLong: key.NewBinding(key.WithKeys("shift+right", "up"), key.WithHelp("⇧→ ↑", "+60 s")),
		Jump: key.NewBinding(key.WithKeys("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
			key.WithHelp("0–9", "jump to 0–90%")),
		SyncToLive: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sync to live")),
		Handover:   key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "hand the host role to…")),
		EndWait:    key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "don't wait for buffering members")),
		Moderate:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "co-host, remove or ban…")),
		Invite:     key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "show the invite link")),
		OSD:        key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "comments on the video on/off")),
		Ready:      key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "I'm ready / not ready")),
		ReadyMode:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "ready check on/off")),
		Comment:    key.NewBinding(key.WithKeys("c", "tab"), key.WithHelp("c/tab", "comment")),
		Send:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send, back to keys")),
		LeaveInput: key.NewBinding(key.WithKeys("esc", "tab"), key.WithHelp("esc", "back to keys (keeps the text)")),
		PageUp:     key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup/pgdn", "scroll comments")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "newer comments")),
		Latest:     key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "latest comments")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:       key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		ForceQuit:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// roleHelp adapts a KeyMap to help.KeyMap for one role and input state.
type roleHelp struct {
	k      KeyMap
	host   bool
	typing bool
}

// ShortHelp is the one-line help bar.
func (h roleHelp) ShortHelp() []key.Binding {
	k := h.k
	if h.typing {
		return []key.Binding{k.Send, relabel(k.LeaveInput, "esc", "back to keys"), k.PageUp, k.ForceQuit}
	}
	comment := relabel(k.Comment, "c", "comment")
	if h.host {
		return []key.Binding{k.PlayPause, relabel(k.Back, "←/→", "±5s"), relabel(k.BackLong, "⇧←→", "±60s"),
			relabel(k.Jump, "0–9", "jump"), comment, k.Help, k.Quit}
	}
	return []key.Binding{k.SyncToLive, comment, relabel(k.PageUp, "pgup/pgdn", "scroll"), k.Help, k.Quit}
}

// FullHelp is the help overlay, in columns.
func (h roleHelp) FullHelp() [][]key.Binding {
	k := h.k
	general := []key.Binding{k.Comment, k.Send, k.LeaveInput, k.PageUp, k.Latest, k.OSD, k.Help, k.Quit}
	if h.host {
		return [][]key.Binding{{k.PlayPause, k.Back, k.BackLong, k.Jump, k.Handover, k.EndWait, k.ReadyMode, k.Ready, k.Moderate, k.Invite}, general}
	}
	return [][]key.Binding{{k.SyncToLive, k.Ready}, general}
}

// relabel returns a copy of b with a shorter help text, for the one-line help bar.
func relabel(b key.Binding, keys, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(keys, desc))
}
