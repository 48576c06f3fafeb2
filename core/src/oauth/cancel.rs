//! One handle to cancel a running sign-in of either kind.

use super::device::DeviceCancel;
use super::server::CancelHandle;

/// Cancels a running sign-in of either kind (what front ends keep while a flow runs).
#[derive(Clone)]
pub enum SignInCancel {
    Browser(CancelHandle),
    Device(DeviceCancel),
}

impl SignInCancel {
    pub fn cancel(&self) {
        match self {
            SignInCancel::Browser(c) => c.cancel(),
            SignInCancel::Device(c) => c.cancel(),
        }
    }
}

impl From<CancelHandle> for SignInCancel {
    fn from(c: CancelHandle) -> Self {
        SignInCancel::Browser(c)
    }
}

impl From<DeviceCancel> for SignInCancel {
    fn from(c: DeviceCancel) -> Self {
        SignInCancel::Device(c)
    }
}
