//! The one rule for a poisoned lock: take the data and go on.
//!
//! A std `Mutex` or `RwLock` is poisoned when a thread panicked while holding it. Every
//! critical section in stratbench leaves its data whole (counters bumped, a record pushed, a
//! table replaced in one assignment), and the panic itself already fails its run where it
//! happened. Panicking again in every other thread that takes the lock would turn one failure
//! into many reports, and could stop a Ctrl-C path or a child's clean-up half-way. So every
//! std lock is taken through [`Recover`]: the guard of a poisoned lock is returned as that of
//! a healthy one.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Takes a std `Mutex`, poisoned or not (see the module doc for why).
pub trait Recover<T: ?Sized> {
    /// The mutex's guard, waiting for it as `lock()` does.
    fn locked(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> Recover<T> for Mutex<T> {
    fn locked(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Read and write access to a std `RwLock`, poisoned or not.
pub trait RecoverRw<T: ?Sized> {
    /// A shared guard, as `read()`.
    fn read_locked(&self) -> RwLockReadGuard<'_, T>;
    /// The exclusive guard, as `write()`.
    fn write_locked(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RecoverRw<T> for RwLock<T> {
    fn read_locked(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_locked(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_mutex_poisoned_by_a_panicking_holder_still_gives_its_data() {
        let shared = Arc::new(Mutex::new(7));
        let holder = Arc::clone(&shared);
        let _ = std::thread::spawn(move || {
            let _guard = holder.lock().unwrap();
            panic!("the holder fails");
        })
        .join();
        assert!(shared.is_poisoned());
        assert_eq!(*shared.locked(), 7);
    }
}
