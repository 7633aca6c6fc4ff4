//! Control errors as gRPC statuses, in one place.

use rswarm_types::ControlError;
use tonic::Status;

/// The gRPC status for a control/dispatcher error.
pub(super) fn from_control(e: ControlError) -> Status {
    let msg = e.to_string();
    match e {
        ControlError::InvalidArgument(_) => Status::invalid_argument(msg),
        ControlError::NotFound { .. } => Status::not_found(msg),
        ControlError::NameConflict { .. } => Status::already_exists(msg),
        ControlError::FailedPrecondition(_) | ControlError::OutOfSequence => {
            Status::failed_precondition(msg)
        }
        ControlError::NotImplemented(_) => Status::unimplemented(msg),
        ControlError::Unavailable(_) | ControlError::NotInSwarm => Status::unavailable(msg),
        ControlError::NotAManager | ControlError::WorkerNotManager => {
            Status::permission_denied(msg)
        }
        _ => Status::internal(msg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn codes_follow_the_condition() {
        assert_eq!(
            from_control(ControlError::invalid("bad")).code(),
            Code::InvalidArgument
        );
        assert_eq!(
            from_control(ControlError::not_found("node", "x")).code(),
            Code::NotFound
        );
        assert_eq!(
            from_control(ControlError::NotInSwarm).code(),
            Code::Unavailable
        );
        assert_eq!(
            from_control(ControlError::Internal("boom".into())).message(),
            "boom"
        );
    }
}
