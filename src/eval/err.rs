//! Evaluation errors: what a decision that failed closed carries as its reason.

use super::*;

/// An error met while deciding. It never escapes as an `Err`: it becomes a
/// denying decision whose reason is this error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    /// `PCL5xx`, or `PCL401` for a request that does not fit the declared shape.
    pub code: Code,
    /// What went wrong, in words.
    pub message: String,
    /// Where in the policy, when known.
    pub span: Option<Span>,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

impl miette::Diagnostic for EvalError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.code()))
    }
}

pub(super) type R<T> = Result<T, Box<EvalError>>;

#[cold]
pub(super) fn error(code: Code, span: Span, message: String) -> Box<EvalError> {
    Box::new(EvalError {
        code,
        message,
        span: Some(span),
    })
}

#[cold]
pub(super) fn exhausted(span: Span) -> Box<EvalError> {
    error(
        Code::EvalLimit,
        span,
        "the decision took more steps than the limit allows".into(),
    )
}

#[cold]
pub(super) fn type_error(span: Span, message: String) -> Box<EvalError> {
    error(Code::EvalTypeError, span, message)
}

/// Reading a field or item the value does not have. The policy asks for
/// it with `??` or `has`; reading it anywhere else fails closed rather than
/// passing it on as `null` (an asset sent without its `account` is not an
/// asset whose account is null).
#[cold]
pub(super) fn absent(e: &Expr) -> Box<EvalError> {
    let what = match e {
        Expr::Field(_, name, _) => format!("field `{name}` is absent"),
        _ => "the indexed key or item is absent".to_string(),
    };
    error(
        Code::AbsentField,
        span_of(e),
        format!("{what}; test for it with `??` or `has` where it may be missing"),
    )
}
