//! The sans-IO sealer: two directional halves.
//!
//! SSPI lets one thread call `EncryptMessage` while another calls `DecryptMessage` on the same
//! context, and no more. sealstream makes that rule a type: a [`Sealer`] splits into a [`Seal`]
//! half and an [`Unseal`] half, each owning its direction's keys, cipher state and sequence
//! number. They share no mutable state, so a stream's two halves run on two threads without a
//! lock. Anything one direction must tell the other (a key update to answer, an alert to send)
//! travels as a returned value, [`Unsealed::Respond`], never as a hidden write.

use std::ops::Range;

use crate::{Control, Error, Protection, Qop, RecordMut, Status, StreamSizes};

/// The sending direction: `EncryptMessage`.
pub trait Seal: Send + 'static {
    /// The sizes of this half's records (`SECPKG_ATTR_STREAM_SIZES`) with [`Qop::Default`].
    /// The header is exact, the trailer a maximum. Sizes are constant for the life of the half,
    /// and no record this half seals, whatever its qop, is longer than
    /// [`StreamSizes::max_record`].
    fn sizes(&self) -> StreamSizes;

    /// The sizes of records sealed with `qop`, when they differ from [`sizes`](Self::sizes):
    /// a Kerberos layer's header holds a confounder before sealed data and nothing before signed
    /// data. The stream places each record's payload after the header of its own qop.
    ///
    /// The default is [`sizes`](Self::sizes) for every qop.
    fn sizes_for(&self, qop: Qop) -> StreamSizes {
        let _ = qop;
        self.sizes()
    }

    /// Seal `record` in place: write the header, protect the payload where it lies, write the
    /// trailer after it. Returns the record's total length (header, payload and actual trailer).
    ///
    /// The payload is at most [`StreamSizes::max_message`] bytes and the buffer has room for the
    /// largest trailer. A sealer that cannot give `qop` returns `SEC_E_QOP_NOT_SUPPORTED`.
    fn seal(&mut self, qop: Qop, record: RecordMut<'_>) -> Result<usize, Error>;

    /// Seal a record whose plaintext is `plaintext`, not yet in place: put it in the payload
    /// region of `record` (whose payload length is `plaintext.len()`) and seal, with the same
    /// result as copying it there and calling [`seal`](Self::seal). The stream calls this when a
    /// record's plaintext comes from one caller buffer, and [`seal_message`] always does.
    ///
    /// The default copies, then seals. A sealer that reads the plaintext anyway (a MAC over it)
    /// can copy while it reads and save a pass over the data.
    ///
    /// An override must write every byte of the payload region before it returns `Ok`: the
    /// region holds whatever the buffer held before (the stream reuses buffers across
    /// connections), and a byte left unwritten would be sent. Debug builds of the stream fill
    /// the region with a pattern first, so a test that round-trips data catches an override
    /// that skips bytes.
    fn seal_copying(
        &mut self,
        qop: Qop,
        plaintext: &[u8],
        mut record: RecordMut<'_>,
    ) -> Result<usize, Error> {
        copy_payload(plaintext, &mut record)?;
        self.seal(qop, record)
    }

    /// Seal a control message into `out`, which has room for a largest record
    /// ([`StreamSizes::max_record`]). Returns the bytes written; 0 when this sealer has nothing to
    /// send for it (a SASL layer has no close token).
    ///
    /// The default sends nothing for [`Control::Close`] and refuses everything else with
    /// `SEC_E_QOP_NOT_SUPPORTED`.
    fn seal_control(&mut self, control: &Control, out: &mut [u8]) -> Result<usize, Error> {
        let _ = out;
        match control {
            Control::Close => Ok(0),
            other => Err(Error::new(
                Status::QopNotSupported,
                format!("this sealer cannot send {other:?}"),
            )),
        }
    }

    /// Whether [`seal_control`](Self::seal_control) can send `control`: the stream refuses the
    /// others when they are queued, instead of failing the write half when it comes to them.
    ///
    /// The default accepts only [`Control::Close`], as the default `seal_control` does.
    fn supports_control(&self, control: &Control) -> bool {
        matches!(control, Control::Close)
    }

    /// Whether [`seal`](Self::seal) accepts `qop`.
    fn supports_qop(&self, qop: Qop) -> bool {
        qop == Qop::Default
    }

    /// A control message this half must send before its next data record, asked by the sealer
    /// itself: a key update before the cipher's confidentiality limit, or a close when the keys
    /// cannot be renewed. The stream asks before every data record and seals the answer first.
    ///
    /// The default asks for nothing.
    fn control_due(&self) -> Option<Control> {
        None
    }

    /// The stream has gone idle in this direction and given back its buffer: a sealer may drop
    /// state it can rebuild when the next record comes (an expanded key schedule), so that idle
    /// connections cost little memory. Called between records only, and not once the
    /// connection is chatty (it went idle and had work again within a few milliseconds three
    /// times in a row), so a chatty connection rebuilds at most a few times and a quiet one at
    /// most once per message.
    ///
    /// The default keeps everything.
    fn release_idle(&mut self) {}

    /// The sequence number the next record will carry (`MessageSeqNo`).
    fn sequence(&self) -> u64;
}

/// The receiving direction: `DecryptMessage`.
pub trait Unseal: Send + 'static {
    /// The largest record this half accepts, framing included. The stream's read buffer never
    /// grows beyond it; a record announcing more is refused before any allocation.
    fn max_record(&self) -> usize;

    /// Unseal the first record of `input` in place.
    ///
    /// `input` holds every byte received and not yet consumed; it may end inside a record (then
    /// answer [`Unsealed::Incomplete`]) or hold several. A record that fails authentication is an
    /// error with `SEC_E_MESSAGE_ALTERED` and its plaintext is never reported.
    fn unseal(&mut self, input: &mut [u8]) -> Result<Unsealed, Error>;

    /// Unseal the first record of `input` with its plaintext written into `out` rather than
    /// in place: a reader's own buffer, which saves the copy out of the stream's buffer that
    /// [`unseal`](Self::unseal) leaves to the stream. The stream calls this when a caller's
    /// read has initialized room left and the stream holds no plaintext, with `out` that room
    /// (up to [`max_record`](Self::max_record) bytes).
    ///
    /// `Ok(None)`: this sealer does not open this record into `out` (`out` is too short for
    /// it, or the sealer never does; the default) and has changed nothing, neither its state
    /// nor `out`; the stream calls [`unseal`](Self::unseal) instead. Otherwise the outcome is
    /// as [`unseal`](Self::unseal)'s for the same input, except that a
    /// [`Data`](Unsealed::Data) record's plaintext is `out[plaintext]`, starting at 0, and
    /// nothing of the record is left in `input` to read.
    ///
    /// `out` may hold anything on entry; it is the caller's memory. The bytes of `out` past
    /// a data record's plaintext are unspecified (a TLS 1.3 content type), and `out` must be
    /// left holding nothing of a record that is not data or failed authentication: an
    /// implementation that decrypts into `out` before it knows wipes what it wrote.
    fn unseal_into(&mut self, input: &mut [u8], out: &mut [u8]) -> Result<Option<Unsealed>, Error> {
        let _ = (input, out);
        Ok(None)
    }

    /// Whether the protocol has a close message. If it has, a transport end without it is
    /// truncation (`SEC_E_INCOMPLETE_MESSAGE`); if not (SASL), an end between records is clean.
    fn signals_close(&self) -> bool;

    /// The control message to send to the peer after this half failed with `error` (a TLS fatal
    /// alert), if the protocol has one.
    fn alert_for(&self, error: &Error) -> Option<Control> {
        let _ = error;
        None
    }

    /// The stream has gone idle in this direction and given back its buffer: a sealer may drop
    /// state it can rebuild when the next record comes (an expanded key schedule), so that idle
    /// connections cost little memory. Called between records only, and not once the
    /// connection is chatty (it went idle and had work again within a few milliseconds three
    /// times in a row), so a chatty connection rebuilds at most a few times and a quiet one at
    /// most once per message.
    ///
    /// The default keeps everything.
    fn release_idle(&mut self) {}

    /// The sequence number the next record must carry.
    fn sequence(&self) -> u64;
}

/// What unsealing the first record of the input gave.
///
/// More outcomes may come (the enum is `#[non_exhaustive]`): a caller matching it keeps a
/// wildcard arm that treats an unknown outcome as an error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsealed {
    /// `SEC_E_INCOMPLETE_MESSAGE`: the input ends inside a record; `missing` is how many more
    /// bytes are needed when the header said (SSPI's `SECBUFFER_MISSING`).
    Incomplete {
        /// Bytes still needed, if known.
        missing: Option<usize>,
    },
    /// `SEC_E_OK`: a data record. Its authenticated plaintext is `input[plaintext]` (or
    /// `out[plaintext]` from [`Unseal::unseal_into`]); the record took `input[..consumed]` and
    /// the rest is `SECBUFFER_EXTRA`.
    Data {
        /// Where the plaintext lies inside the input.
        plaintext: Range<usize>,
        /// Bytes of input the record took.
        consumed: usize,
        /// What protected the record: sealed, or signed only (`pfQOP`).
        protection: Protection,
    },
    /// A record that carried no application data and needs no answer (a session ticket, a
    /// warning alert, a key update that asked for none).
    Consumed {
        /// Bytes of input the record took.
        consumed: usize,
    },
    /// `SEC_I_RENEGOTIATE`: the write half must send `control` before its next record.
    Respond {
        /// Bytes of input the record took.
        consumed: usize,
        /// What the write half must send.
        control: Control,
    },
    /// `SEC_I_CONTEXT_EXPIRED`: the peer closed its sending side; end of stream.
    Closed {
        /// Bytes of input the record took.
        consumed: usize,
    },
}

impl Unsealed {
    /// The SSPI status `DecryptMessage` returns for this outcome.
    pub fn status(&self) -> Status {
        match self {
            Unsealed::Incomplete { .. } => Status::IncompleteMessage,
            Unsealed::Data { .. } | Unsealed::Consumed { .. } => Status::Ok,
            Unsealed::Respond { .. } => Status::Renegotiate,
            Unsealed::Closed { .. } => Status::ContextExpiredInfo,
        }
    }

    /// Check this outcome against the input it came from: a record consumes at least one byte
    /// and no more than there is, and its plaintext lies inside what it consumed.
    #[cfg(feature = "stream")]
    pub(crate) fn check(&self, input_len: usize) -> Result<(), Error> {
        self.check_with(input_len, |plaintext, consumed| {
            plaintext.start <= plaintext.end && plaintext.end <= consumed
        })
    }

    /// Check an outcome of [`Unseal::unseal_into`] against its input and output: as
    /// [`check`](Self::check), except that a data record's plaintext starts at 0 in the
    /// `out_len` bytes of output.
    #[cfg(feature = "stream")]
    pub(crate) fn check_into(&self, input_len: usize, out_len: usize) -> Result<(), Error> {
        self.check_with(input_len, |plaintext, _| {
            plaintext.start == 0 && plaintext.end <= out_len
        })
    }

    /// A record consumes at least one byte and no more than there is, and a data record's
    /// plaintext passes `plaintext_ok` (given the bytes consumed).
    #[cfg(feature = "stream")]
    fn check_with(
        &self,
        input_len: usize,
        plaintext_ok: impl FnOnce(&Range<usize>, usize) -> bool,
    ) -> Result<(), Error> {
        let (consumed, plaintext_ok) = match self {
            Unsealed::Incomplete { .. } => return Ok(()),
            Unsealed::Data {
                plaintext,
                consumed,
                ..
            } => (*consumed, plaintext_ok(plaintext, *consumed)),
            Unsealed::Consumed { consumed }
            | Unsealed::Respond { consumed, .. }
            | Unsealed::Closed { consumed } => (*consumed, true),
        };
        if consumed == 0 || consumed > input_len || !plaintext_ok {
            return Err(Error::new(
                Status::InternalError,
                format!("unsealer reported {self:?} for {input_len} bytes of input"),
            ));
        }
        Ok(())
    }
}

/// A security context that splits into its two directions.
///
/// Any `(Seal, Unseal)` pair is a sealer. Sealers are `'static` like their halves, so the
/// stream's halves can be moved into spawned tasks.
pub trait Sealer: 'static {
    /// The sending half.
    type Seal: Seal;
    /// The receiving half.
    type Unseal: Unseal;

    /// The two halves.
    fn into_halves(self) -> (Self::Seal, Self::Unseal);
}

impl<S: Seal, U: Unseal> Sealer for (S, U) {
    type Seal = S;
    type Unseal = U;

    fn into_halves(self) -> (S, U) {
        self
    }
}

/// Seal `message` into `out` as one record: copy it into the payload region and seal in place.
/// The one-call form of `EncryptMessage` for users of the sans-IO API; returns the record length.
///
/// Fails with `SEC_E_INVALID_PARAMETER` when the message exceeds the maximum and
/// `SEC_E_BUFFER_TOO_SMALL` when `out` cannot hold the record.
pub fn seal_message<S: Seal + ?Sized>(
    seal: &mut S,
    qop: Qop,
    message: &[u8],
    out: &mut [u8],
) -> Result<usize, Error> {
    let sizes = seal.sizes_for(qop);
    if message.len() > sizes.max_message {
        return Err(Error::new(
            Status::InvalidParameter,
            format!(
                "message of {} bytes exceeds the maximum of {}",
                message.len(),
                sizes.max_message
            ),
        ));
    }
    let needed = sizes.record_len(message.len());
    let Some(buf) = out.get_mut(..needed) else {
        return Err(Error::new(
            Status::BufferTooSmall,
            format!("{} bytes cannot hold a record of up to {needed}", out.len()),
        ));
    };
    seal_record_copying(seal, qop, message, buf, sizes.header)
}

/// Copy `plaintext` into the payload region of `record`, which must be exactly as long.
///
/// Fails with `SEC_E_INTERNAL_ERROR` when the lengths differ (a caller bug).
pub(crate) fn copy_payload(plaintext: &[u8], record: &mut RecordMut<'_>) -> Result<(), Error> {
    let payload = record.payload_mut();
    if payload.len() != plaintext.len() {
        return Err(Error::new(
            Status::InternalError,
            format!(
                "{} bytes of plaintext for a {}-byte payload",
                plaintext.len(),
                payload.len()
            ),
        ));
    }
    payload.copy_from_slice(plaintext);
    Ok(())
}

/// Seal the record whose payload already lies at `buf[header..header + payload_len]`, and check
/// the length the sealer reports against the buffer.
#[cfg(feature = "stream")]
pub(crate) fn seal_record<S: Seal + ?Sized>(
    seal: &mut S,
    qop: Qop,
    buf: &mut [u8],
    header: usize,
    payload_len: usize,
) -> Result<usize, Error> {
    let len = seal.seal(qop, RecordMut::new(buf, header, payload_len)?)?;
    RecordMut::check_sealed_len(len, header + payload_len, buf.len())
}

/// Seal `plaintext` as the payload of the record at the start of `buf` (header first), through
/// [`Seal::seal_copying`], and check the length the sealer reports against the buffer.
pub(crate) fn seal_record_copying<S: Seal + ?Sized>(
    seal: &mut S,
    qop: Qop,
    plaintext: &[u8],
    buf: &mut [u8],
    header: usize,
) -> Result<usize, Error> {
    let payload_len = plaintext.len();
    let len = seal.seal_copying(qop, plaintext, RecordMut::new(buf, header, payload_len)?)?;
    RecordMut::check_sealed_len(len, header + payload_len, buf.len())
}
