//! Log lines, the `AUDIT_LOG` lines among them, written to stderr by a background thread, so
//! a request never waits for the write: it formats its line and hands it over.
//!
//! - **Bounded**: at most [`QUEUE_LINES`] lines wait. When the queue is full, the request
//!   that logs waits for room (a line is never dropped: audit lines are records) and the wait
//!   is counted, in `link_log_queue_full_total` when metrics are on and in the shutdown
//!   message otherwise.
//! - **Batched**: the thread writes every line waiting into one buffered write, so under load
//!   a write call carries many lines; while lines keep coming it looks for them every 5 ms
//!   rather than being woken for each (a line may reach stderr up to 5 ms after it was made).
//! - **Flushed at shutdown**: [`LogWriter::flush`] returns once every line handed over before
//!   it is written. Lines still queued when the process is killed (`SIGKILL`, an abort) are
//!   lost; a normal shutdown (`SIGINT`, `SIGTERM`) loses none.
//! - Not used on AWS Lambda, where the process is frozen between invocations: there, lines
//!   are written as they are made (see `telemetry.rs`).

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use tracing_subscriber::fmt::MakeWriter;

/// How many lines may wait for the writer thread.
pub const QUEUE_LINES: usize = 4096;

/// How often the busy thread looks for more lines.
const LINGER: Duration = Duration::from_millis(5);

/// How many looks in a row that find nothing make the thread wait to be woken again (a
/// quarter of a second).
const IDLE_POLLS: u32 = 50;

/// How long [`LogWriter::flush`] waits for the thread at most.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

enum Job {
    Line(Vec<u8>),
    /// Everything before it is written: say so on the channel.
    Flush(SyncSender<()>),
}

/// A [`MakeWriter`] for `tracing_subscriber::fmt` whose lines a background thread writes.
///
/// ```
/// use std::io::Write;
/// use link_server::log_writer::LogWriter;
///
/// let (writer, written) = LogWriter::to_buffer()?;
/// writer.line(b"AUDIT_LOG {}\n");
/// writer.flush();
/// assert_eq!(written.lock().unwrap().as_slice(), b"AUDIT_LOG {}\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct LogWriter {
    queue: SyncSender<Job>,
    /// The times a line waited for room (`link_log_queue_full_total` when metrics are on).
    full: Counter,
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter")
            .field("queue_full", &self.queue_full())
            .finish_non_exhaustive()
    }
}

impl LogWriter {
    /// Lines written to stderr by a thread named `link-log`; the waits for room counted in
    /// `full`.
    pub fn stderr(full: Counter) -> io::Result<Self> {
        Self::spawn(io::stderr(), QUEUE_LINES, full)
    }

    /// Lines written to `out` by a new thread, at most `capacity` waiting; the waits for room
    /// counted in `full`.
    pub fn spawn(
        out: impl Write + Send + 'static,
        capacity: usize,
        full: Counter,
    ) -> io::Result<Self> {
        let (queue, jobs) = sync_channel(capacity.max(1));
        std::thread::Builder::new()
            .name("link-log".into())
            .spawn(move || write_all(jobs, io::BufWriter::with_capacity(64 * 1024, out)))?;
        Ok(Self { queue, full })
    }

    /// A writer into a shared buffer, for tests and examples.
    pub fn to_buffer() -> io::Result<(Self, Arc<std::sync::Mutex<Vec<u8>>>)> {
        let buffer = Arc::new(std::sync::Mutex::new(Vec::new()));
        let out = SharedBuffer(Arc::clone(&buffer));
        let writer = Self::spawn(out, QUEUE_LINES, Counter::default())?;
        Ok((writer, buffer))
    }

    /// Hands one line (or several, whole) to the thread; waits when the queue is full.
    pub fn line(&self, bytes: &[u8]) {
        let job = match self.queue.try_send(Job::Line(bytes.to_vec())) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => return,
            Err(TrySendError::Full(job)) => job,
        };
        self.full.inc();
        let _ = self.queue.send(job);
    }

    /// Returns once every line handed over before the call is written, or after five seconds.
    pub fn flush(&self) {
        let (done, wait) = sync_channel(1);
        if self.queue.send(Job::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(FLUSH_TIMEOUT);
        }
    }

    /// How many times a line waited for room in the queue.
    pub fn queue_full(&self) -> u64 {
        self.full.get()
    }
}

/// The thread. Idle, it waits for a line; busy, it looks for lines every [`LINGER`] instead
/// of being woken for each one (a wake-up is a system call on the request's thread and a
/// context switch, dearer on a virtual machine than writing the line), and goes back to
/// waiting after [`IDLE_POLLS`] looks that found nothing.
fn write_all(jobs: Receiver<Job>, mut out: impl Write) {
    while let Ok(job) = jobs.recv() {
        let mut next = Some(job);
        let mut empty = 0;
        while empty < IDLE_POLLS {
            if next.is_none() {
                empty += 1;
            } else {
                empty = 0;
                write_waiting(&jobs, next.take(), &mut out);
            }
            std::thread::sleep(LINGER);
            next = jobs.try_recv().ok();
        }
        write_waiting(&jobs, next, &mut out);
    }
}

/// Writes `first` and every job waiting behind it, then flushes once.
fn write_waiting(jobs: &Receiver<Job>, first: Option<Job>, out: &mut impl Write) {
    let mut next = first;
    while let Some(job) = next {
        match job {
            Job::Line(bytes) => {
                let _ = out.write_all(&bytes);
            }
            Job::Flush(done) => {
                let _ = out.flush();
                let _ = done.send(());
            }
        }
        next = jobs.try_recv().ok();
    }
    let _ = out.flush();
}

/// One event's output: `tracing_subscriber::fmt` writes a whole line in one call.
#[derive(Debug)]
pub struct LineWriter<'a>(&'a LogWriter);

impl Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.line(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(self)
    }
}

struct SharedBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut buffer = self
            .0
            .lock()
            .map_err(|_| io::Error::other("log buffer lock poisoned"))?;
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::{Arc, Barrier, Mutex};

    use super::*;

    /// An output that says when its first write starts and holds it until the barrier opens.
    struct Gate {
        entered: SyncSender<()>,
        open: Arc<Barrier>,
        written: Arc<Mutex<Vec<u8>>>,
        held: bool,
    }

    impl Write for Gate {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if !self.held {
                self.held = true;
                self.entered.send(()).unwrap();
                self.open.wait();
            }
            self.written.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_keep_their_order_and_a_flush_waits_for_them() {
        let (writer, written) = LogWriter::to_buffer().unwrap();
        for i in 0..1000 {
            writer.line(format!("line {i}\n").as_bytes());
        }
        writer.flush();
        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        let expected: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, expected);
        assert_eq!(writer.queue_full(), 0);
    }

    #[test]
    fn a_full_queue_makes_the_line_wait_is_counted_and_loses_nothing() {
        let (entered, started) = sync_channel(1);
        let open = Arc::new(Barrier::new(2));
        let written = Arc::new(Mutex::new(Vec::new()));
        let out = Gate {
            entered,
            open: Arc::clone(&open),
            written: Arc::clone(&written),
            held: false,
        };
        let counter = Counter::default();
        let writer = LogWriter::spawn(out, 2, counter.clone()).unwrap();
        // The thread takes the first line and is held writing it; two more fill the queue.
        writer.line(b"1\n");
        started.recv().unwrap();
        writer.line(b"2\n");
        writer.line(b"2\n");
        assert_eq!(writer.queue_full(), 0);
        let producer = {
            let writer = writer.clone();
            std::thread::spawn(move || writer.line(b"3\n"))
        };
        while writer.queue_full() == 0 {
            std::thread::yield_now();
        }
        assert!(!producer.is_finished(), "the third line waits for room");
        open.wait();
        producer.join().unwrap();
        writer.flush();
        assert_eq!(written.lock().unwrap().as_slice(), b"1\n2\n2\n3\n");
        assert_eq!(writer.queue_full(), 1);
        assert_eq!(counter.get(), 1);
    }
}
