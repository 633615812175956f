//! A fixed set of worker threads, each owning one llama.cpp context, fed by a bounded queue.
//!
//! Generation is CPU-bound and synchronous, so it runs on these dedicated threads, never on the
//! async runtime. The queue is bounded so that a burst of requests costs a clear
//! [`Error::Busy`] instead of unbounded memory.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use link_core::{Error, Result};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::model::LlamaModel;

use crate::LocalConfig;
use crate::backend::backend;
use crate::generate::{Job, WorkerContext, failure, run};
use crate::prefix::CachedPrefix;

/// llama.cpp may not create two contexts of one model at the same time (it adjusts the
/// model while doing so), so creations are serialised across all models of the process.
static CONTEXT_CREATION: Mutex<()> = Mutex::new(());

/// Counters shared by the workers, read by [`LocalModel::stats`](crate::LocalModel::stats).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) active: AtomicUsize,
    /// Jobs accepted into the queue and not yet taken by a worker. Signed because a worker
    /// may take a job (and count it out) before its submitter has counted it in.
    queued: AtomicIsize,
    pub(crate) tokens: AtomicU64,
    pub(crate) grammar_rejections: AtomicU64,
    pub(crate) prompt_tokens_reused: AtomicU64,
}

/// The workers and the sending side of their queue. Dropping it stops the workers once they
/// finish their current job.
#[derive(Debug)]
pub(crate) struct Pool {
    jobs: SyncSender<Job>,
    pub(crate) counters: Arc<Counters>,
    capacity: usize,
    workers: usize,
}

impl Pool {
    /// Starts `config.workers` workers and waits until each has its context.
    pub(crate) fn start(model: &Arc<LlamaModel>, config: &LocalConfig) -> Result<Self> {
        let (jobs, queue) = sync_channel::<Job>(config.queue);
        let queue = Arc::new(Mutex::new(queue));
        let counters = Arc::new(Counters::default());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
        for index in 0..config.workers {
            let worker = Worker {
                model: Arc::clone(model),
                queue: Arc::clone(&queue),
                counters: Arc::clone(&counters),
                params: context_params(config),
                window: config.context_tokens as usize,
            };
            let ready = ready_tx.clone();
            std::thread::Builder::new()
                .name(format!("link-local-{index}"))
                .spawn(move || worker.serve(&ready))
                .map_err(|e| Error::Config {
                    message: format!("could not start a model worker thread: {e}"),
                })?;
        }
        drop(ready_tx);
        for _ in 0..config.workers {
            ready_rx.recv().map_err(|_| Error::Config {
                message: "a model worker stopped while starting".into(),
            })??;
        }
        Ok(Self {
            jobs,
            counters,
            capacity: config.queue,
            workers: config.workers,
        })
    }

    /// Queues a job, or fails at once with [`Error::Busy`] when the queue is full.
    pub(crate) fn submit(&self, job: Job) -> Result<()> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => Error::Busy {
                message: format!(
                    "the local model is busy: {} generation(s) running and {} waiting; try again shortly",
                    self.workers, self.capacity
                ),
            },
            TrySendError::Disconnected(_) => {
                failure("the local model's workers have stopped".into())
            }
        })?;
        // Counted only once the job is really in the queue, so that a reader who sees it
        // counted knows that the queue holds it (or a worker has just taken it).
        self.counters.queued.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn context_params(config: &LocalConfig) -> LlamaContextParams {
    let threads = config.threads_per_worker();
    LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(config.context_tokens.max(64)))
        .with_n_batch(config.context_tokens.max(64))
        .with_n_threads(threads)
        .with_n_threads_batch(threads)
}

struct Worker {
    model: Arc<LlamaModel>,
    queue: Arc<Mutex<Receiver<Job>>>,
    counters: Arc<Counters>,
    params: LlamaContextParams,
    /// The configured context window, which the context's own may exceed.
    window: usize,
}

impl Worker {
    fn serve(self, ready: &std::sync::mpsc::Sender<Result<()>>) {
        let Worker {
            model,
            queue,
            counters,
            params,
            window,
        } = self;
        let created = backend().and_then(|backend| {
            let _guard = CONTEXT_CREATION.lock().unwrap_or_else(|p| p.into_inner());
            model
                .new_context(backend, params)
                .map_err(|e| Error::Config {
                    message: format!("could not create a llama.cpp context: {e}"),
                })
        });
        let mut worker = match created {
            Ok(ctx) => {
                let _ = ready.send(Ok(()));
                WorkerContext {
                    model: &model,
                    ctx,
                    cache: CachedPrefix::default(),
                    window,
                }
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        loop {
            // The lock is held only while waiting; a poisoned lock means a sibling panicked.
            let job = match queue.lock() {
                Ok(queue) => queue.recv(),
                Err(_) => return,
            };
            match job {
                Ok(job) => {
                    counters.queued.fetch_sub(1, Ordering::SeqCst);
                    run(&mut worker, job, &counters);
                }
                Err(_) => return, // the model was dropped
            }
        }
    }
}

impl Counters {
    pub(crate) fn add_token(&self) {
        self.tokens.fetch_add(1, Ordering::Relaxed);
    }

    /// Jobs waiting for a worker; never negative, even while a count-in is still on its way.
    pub(crate) fn queued(&self) -> usize {
        usize::try_from(self.queued.load(Ordering::SeqCst)).unwrap_or(0)
    }
}
