//! Sign, encrypt and armor one outgoing message as three stages on their own threads,
//! joined by bounded channels: a 20 MiB attachment keeps both cores busy and never
//! sits in memory whole. What travels is exactly what one sequoia writer stack would
//! make: the signed message (one-pass signature, literal data, signature) is the
//! plaintext of the encryption container.
//!
//! Fail closed: a stage that fails closes its channels, the others stop, and the
//! error of the stage where the failure began is returned.

use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::serialize::stream::{Encryptor, LiteralWriter, Message, Recipient, Signer};
use openpgp::types::HashAlgorithm;

use crate::armor::Armor;

/// Bytes per piece handed from one stage to the next.
const PIECE: usize = 512 * 1024;
/// Pieces in flight between two stages: bounds the memory a large message needs.
const DEPTH: usize = 4;

enum Piece {
    Data(Vec<u8>),
    /// The stage before finished cleanly; anything else ending the channel is an abort.
    End,
}

/// How a stage ended when it did not succeed.
enum StageError {
    /// The stage before went away without finishing: not where the failure began.
    Aborted,
    Failed(String),
}

/// Runs the three stages; see [`super::sign_and_encrypt`].
pub fn run(
    signer: openpgp::crypto::KeyPair,
    recipients: Vec<Recipient<'_>>,
    now: SystemTime,
    sink: &mut (dyn Write + Send),
    write_inner: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let (to_encrypt, signed) = link();
    let (to_armor, encrypted) = link();
    std::thread::scope(|scope| {
        let armoring = scope.spawn(move || armor_stage(encrypted, sink));
        let encrypting = scope.spawn(move || encrypt_stage(signed, recipients, to_armor));
        let signing = sign_stage(signer, now, to_encrypt, write_inner);
        let encrypting = encrypting.join().unwrap_or_else(|_| Err(StageError::Failed("internal error in the encryption stage".into())));
        let armoring = armoring.join().unwrap_or_else(|_| Err(StageError::Failed("internal error in the armor stage".into())));
        // A later stage's own failure makes the earlier ones fail too (their channel
        // closes), so it is the cause; an earlier stage's failure only aborts later ones.
        for stage in [armoring, encrypting] {
            if let Err(StageError::Failed(e)) = stage {
                return Err(e);
            }
        }
        signing
    })
}

/// Stage 1, on the caller's thread: the inner entity, signed, as OpenPGP packets.
fn sign_stage(
    signer: openpgp::crypto::KeyPair,
    now: SystemTime,
    next: PieceWriter,
    write_inner: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    // SHA-256: what every OpenPGP implementation verifies, and with SHA-NI about
    // twice as fast as sequoia's default SHA-512 on the path of every byte.
    let end = next.end_sender();
    let message = Message::new(next);
    let message = Signer::new(message, signer)
        .map_err(|e| format!("sign: {e:#}"))?
        .hash_algo(HashAlgorithm::SHA256)
        .map_err(|e| format!("sign: {e:#}"))?
        .creation_time(now)
        .build()
        .map_err(|e| format!("sign: {e:#}"))?;
    let mut literal = LiteralWriter::new(message).build().map_err(|e| format!("literal: {e:#}"))?;
    write_inner(&mut literal).map_err(|e| format!("writing the message: {e}"))?;
    literal.finalize().map_err(|e| format!("finishing the signed message: {e:#}"))?;
    // The writer stack, and with it the last piece, is gone: the stream is whole.
    end.send(Piece::End).map_err(|_| "the encryption stage stopped".to_string())
}

/// Stage 2: the signed packets become the plaintext of the encryption container.
fn encrypt_stage(signed: PieceReader, recipients: Vec<Recipient<'_>>, next: PieceWriter) -> Result<(), StageError> {
    let failed = |what: &str| {
        let what = what.to_string();
        move |e: anyhow::Error| StageError::Failed(format!("{what}: {e:#}"))
    };
    let end = next.end_sender();
    let message = Message::new(next);
    let mut message = Encryptor::for_recipients(message, recipients).build().map_err(failed("encrypt"))?;
    loop {
        match signed.recv() {
            Ok(Piece::Data(bytes)) => {
                message.write_all(&bytes).map_err(|e| failed("encrypt")(e.into()))?;
                signed.give_back(bytes);
            }
            Ok(Piece::End) => break,
            Err(_) => return Err(StageError::Aborted),
        }
    }
    message.finalize().map_err(failed("finishing the encrypted message"))?;
    end.send(Piece::End).map_err(|_| StageError::Aborted)
}

/// Stage 3: ASCII armor with CRLF line ends, into the sink.
fn armor_stage(encrypted: PieceReader, sink: &mut (dyn Write + Send)) -> Result<(), StageError> {
    let failed = |e: io::Error| StageError::Failed(format!("writing the message: {e}"));
    let mut out = Vec::with_capacity(PIECE * 3 / 2);
    let mut armor = Armor::begin(&mut out);
    loop {
        match encrypted.recv() {
            Ok(Piece::Data(bytes)) => {
                armor.update(&bytes, &mut out);
                encrypted.give_back(bytes);
            }
            Ok(Piece::End) => break,
            Err(_) => return Err(StageError::Aborted),
        }
        sink.write_all(&out).map_err(failed)?;
        out.clear();
    }
    armor.finish(&mut out);
    sink.write_all(&out).map_err(failed)
}

/// A channel between two stages, with a way back for emptied buffers: pieces are
/// large, and fresh ones would each cost page faults.
fn link() -> (PieceWriter, PieceReader) {
    let (pieces, received) = sync_channel(DEPTH);
    let (spare, spares) = sync_channel(DEPTH + 1);
    (PieceWriter { next: pieces, spares: Mutex::new(spares), buffer: Vec::with_capacity(PIECE) }, PieceReader { pieces: received, spare })
}

/// The `Write` end of a link, in pieces of [`PIECE`] bytes. The last piece goes
/// when the writer is dropped, which sequoia does when it finalizes its stack.
struct PieceWriter {
    next: SyncSender<Piece>,
    // A Mutex only because sequoia wants its sink `Sync`; only this writer locks it.
    spares: Mutex<Receiver<Vec<u8>>>,
    buffer: Vec<u8>,
}

impl PieceWriter {
    /// Where to say the stream is whole, once the writer itself is gone.
    fn end_sender(&self) -> SyncSender<Piece> {
        self.next.clone()
    }

    fn send(&mut self) -> io::Result<()> {
        let spare = self.spares.get_mut().ok().and_then(|spares| spares.try_recv().ok());
        let fresh = spare.unwrap_or_else(|| Vec::with_capacity(PIECE));
        let piece = std::mem::replace(&mut self.buffer, fresh);
        self.next.send(Piece::Data(piece)).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the next stage stopped"))
    }
}

impl Write for PieceWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let take = (PIECE - self.buffer.len()).min(data.len());
        self.buffer.extend_from_slice(&data[..take]);
        if self.buffer.len() == PIECE {
            self.send()?;
        }
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for PieceWriter {
    fn drop(&mut self) {
        if !self.buffer.is_empty() {
            // A failure here shows as the missing End at the next stage.
            let _ = self.send();
        }
    }
}

/// The receiving end of a link.
struct PieceReader {
    pieces: Receiver<Piece>,
    spare: SyncSender<Vec<u8>>,
}

impl PieceReader {
    fn recv(&self) -> Result<Piece, std::sync::mpsc::RecvError> {
        self.pieces.recv()
    }

    /// Returns a used buffer to the writer (dropped if it has enough).
    fn give_back(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        let _ = self.spare.try_send(buffer);
    }
}
