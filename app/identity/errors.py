"""Problem codes the kernel's own gates raise (dependencies.py): step-up and enrolment.
The second-factor flows raise them too (docs/mfa.md lists every code for clients)."""

from app.core.errors import Forbidden, Unauthorized


class StepUpRequired(Unauthorized):
    """The session is valid but its last factor is too old for this route: prompt for one and
    call ``POST /v1/auth/step-up`` (the console does this)."""

    code = "step_up_required"
    title = "Confirm it is you with your second factor"


class SecondFactorEnrolmentRequired(Forbidden):
    code = "second_factor_enrolment_required"
    title = "Enrol a second factor first"
