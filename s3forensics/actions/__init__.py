"""Response actions: block, contain, notify, audit and roll back; dry-run unless told to apply.

Every action is a plan from a resource's ``before`` state to its ``after`` state
(:mod:`~s3forensics.actions.resources`), recorded in the audit log whether it is applied
or not, and reversible with :func:`~s3forensics.actions.rollback.rollback`. Importing this
package touches no AWS and no files; boto3 is imported when an action runs.
"""
