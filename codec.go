package admeter

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"
)

// eventCodecVersion is the first byte of every encoded Event. A decoder
// refuses versions it does not know, so the log and stores can evolve.
// Version 2 appends the invalid-traffic verdict; version 1 records (logged
// before it existed) decode with a valid verdict. Version 3 appends the
// viewability, video and conversion fields, behind a byte of flags saying
// which groups are present (0 for a plain impression or click), so that
// ordinary events grow by one byte.
const eventCodecVersion = 3

// Groups of optional fields in a version 3 encoding.
const (
	groupView       = 1 << iota // View, ViewArea, ViewSeconds
	groupVideo                  // VideoDuration, VideoPlay, VideoProgress, VideoQuartiles
	groupConversion             // ConversionID, ConversionType, Value, Currency
	groupClickID                // ClickID
	groupAll        = groupView | groupVideo | groupConversion | groupClickID
)

// ErrBadEncoding is returned (wrapped) by UnmarshalBinary for input that is
// not an encoded Event.
var ErrBadEncoding = errors.New("malformed event encoding")

// AppendBinary appends the compact binary encoding of e to b and returns the
// extended buffer. The encoding is stable within a codec version and is what
// the event log stores.
func (e *Event) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, eventCodecVersion, byte(e.Kind))
	b = binary.AppendUvarint(b, uint64(e.Flags))
	b = appendString(b, string(e.Tenant))
	b = appendString(b, string(e.Campaign))
	b = appendString(b, string(e.Placement))
	b = binary.AppendVarint(b, e.At.UnixMilli())
	b = binary.AppendVarint(b, e.Received.UnixMilli())
	b = append(b, byte(e.UserType))
	if e.UserType != IDNone {
		b = append(b, e.User[:]...)
	}
	b = binary.AppendUvarint(b, uint64(e.KeyVersion))
	if e.ImpressionID.IsZero() {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = append(b, e.ImpressionID[:]...)
	}
	b = append(b, byte(e.OS), byte(e.DeviceType), byte(e.Network), byte(e.Risk))
	b = appendString(b, e.OSVersion)
	b = appendString(b, e.Browser)
	b = appendString(b, e.Model)
	b = appendString(b, e.App)
	b = appendString(b, e.AppPackage)
	switch p := e.Net.prefix; {
	case !p.IsValid():
		b = append(b, 0)
	case p.Addr().Is4():
		a := p.Addr().As4()
		b = append(b, 4, a[0], a[1], a[2])
	default:
		a := p.Addr().As16()
		b = append(b, 6)
		b = append(b, a[:6]...)
	}
	b = appendString(b, e.Region.Country)
	b = appendString(b, e.Region.Province)
	b = appendString(b, e.Region.City)
	if e.Area.set {
		b = append(b, 1)
		b = binary.AppendVarint(b, int64(e.Area.lat))
		b = binary.AppendVarint(b, int64(e.Area.lon))
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(e.IVT))
	var groups byte
	if e.View != ViewNone || e.ViewArea != 0 || e.ViewSeconds != 0 {
		groups |= groupView
	}
	if e.VideoDuration != 0 || e.VideoPlay != PlayNone || e.VideoProgress != ProgressNone || e.VideoQuartiles != 0 {
		groups |= groupVideo
	}
	if !e.ConversionID.IsZero() || e.ConversionType != "" || e.Value != 0 || e.Currency != "" {
		groups |= groupConversion
	}
	if !e.ClickID.IsZero() {
		groups |= groupClickID
	}
	b = append(b, groups)
	if groups&groupView != 0 {
		b = append(b, byte(e.View), e.ViewArea, e.ViewSeconds)
	}
	if groups&groupVideo != 0 {
		b = binary.AppendUvarint(b, uint64(e.VideoDuration.Milliseconds()))
		b = append(b, byte(e.VideoPlay), byte(e.VideoProgress), byte(e.VideoQuartiles))
	}
	if groups&groupConversion != 0 {
		b = append(b, e.ConversionID[:]...)
		b = appendString(b, e.ConversionType)
		b = binary.AppendVarint(b, e.Value)
		b = appendString(b, e.Currency)
	}
	if groups&groupClickID != 0 {
		b = append(b, e.ClickID[:]...)
	}
	return b, nil
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (e *Event) MarshalBinary() ([]byte, error) {
	return e.AppendBinary(make([]byte, 0, 128))
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler. It rejects any input
// that is not exactly one encoded Event, wrapping ErrBadEncoding.
func (e *Event) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	version := d.byte()
	if version < 1 || version > eventCodecVersion {
		if d.err != nil {
			return d.err
		}
		return errors.Join(ErrBadEncoding, errors.New("unknown codec version"))
	}
	var out Event
	out.Kind = Kind(d.byte())
	out.Flags = Flags(d.uvarint())
	out.Tenant = TenantID(d.string())
	out.Campaign = CampaignID(d.string())
	out.Placement = PlacementID(d.string())
	out.At = time.UnixMilli(d.varint()).UTC()
	out.Received = time.UnixMilli(d.varint()).UTC()
	out.UserType = IDType(d.byte())
	if out.UserType != IDNone {
		copy(out.User[:], d.bytes(len(out.User)))
	}
	out.KeyVersion = uint32(d.uvarint())
	if d.byte() == 1 {
		copy(out.ImpressionID[:], d.bytes(len(out.ImpressionID)))
	}
	out.OS = OS(d.byte())
	out.DeviceType = DeviceType(d.byte())
	out.Network = Network(d.byte())
	out.Risk = Risk(d.byte())
	out.OSVersion = d.string()
	out.Browser = d.string()
	out.Model = d.string()
	out.App = d.string()
	out.AppPackage = d.string()
	switch d.byte() {
	case 0:
	case 4:
		var a [4]byte
		copy(a[:], d.bytes(3))
		out.Net = BlockOf(netip.AddrFrom4(a))
	case 6:
		var a [16]byte
		copy(a[:], d.bytes(6))
		out.Net = BlockOf(netip.AddrFrom16(a))
	default:
		d.fail("bad network family")
	}
	out.Region.Country = d.string()
	out.Region.Province = d.string()
	out.Region.City = d.string()
	if d.byte() == 1 {
		lat, lon := d.varint(), d.varint()
		a, ok := AreaFromGrid(int32(lat), int32(lon))
		if !ok || int64(int32(lat)) != lat || int64(int32(lon)) != lon {
			d.fail("bad area")
		}
		out.Area = a
	}
	if version >= 2 {
		v := d.uvarint()
		if v >= uint64(numIVT) {
			d.fail("unknown invalid-traffic reason")
		}
		out.IVT = IVT(v)
	}
	if version >= 3 {
		groups := d.byte()
		if groups&^groupAll != 0 {
			d.fail("unknown field groups")
		}
		if groups&groupView != 0 {
			out.View, out.ViewArea, out.ViewSeconds = ViewResult(d.byte()), d.byte(), d.byte()
		}
		if groups&groupVideo != 0 {
			ms := d.uvarint()
			if ms > uint64(MaxVideoDuration.Milliseconds()) {
				d.fail("bad video duration")
			}
			out.VideoDuration = time.Duration(ms) * time.Millisecond
			out.VideoPlay, out.VideoProgress, out.VideoQuartiles = VideoPlay(d.byte()), VideoProgress(d.byte()), Quartiles(d.byte())
		}
		if groups&groupConversion != 0 {
			copy(out.ConversionID[:], d.bytes(len(out.ConversionID)))
			out.ConversionType = d.string()
			out.Value = d.varint()
			out.Currency = d.string()
		}
		if groups&groupClickID != 0 {
			copy(out.ClickID[:], d.bytes(len(out.ClickID)))
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return d.err
	}
	if err := out.Validate(); err != nil {
		return errors.Join(ErrBadEncoding, err)
	}
	*e = out
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads the encoding; after the first error every read returns zero
// values and err keeps the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = errors.Join(ErrBadEncoding, errors.New(msg))
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("short input")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes(n int) []byte {
	if len(d.b) < n {
		d.fail("short input")
		return make([]byte, n)
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("string longer than input")
		return ""
	}
	return string(d.bytes(int(n)))
}
