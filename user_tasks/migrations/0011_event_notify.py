"""PostgreSQL triggers that announce each change of a status, a new artifact or message to the live feed.

``pg_notify`` delivers at commit, in commit order, and never for a rolled-back transaction; a
trigger adds no statement to the tracking's hot path. Other databases get nothing here: their
feed reads recent changes instead (``user_tasks.event_sources``).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION user_tasks_notify_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('user_tasks_events',
            json_build_object('kind', 'deleted', 'status', OLD.uuid, 'user', OLD.user_id)::text);
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        kind := 'created';
    ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
        IF NEW.state = 'In Progress' AND OLD.state IN ('Pending', 'Retrying') THEN
            kind := 'started';
        ELSE
            kind := 'state';
        END IF;
    ELSIF NEW.completed_steps IS DISTINCT FROM OLD.completed_steps
            OR NEW.total_steps IS DISTINCT FROM OLD.total_steps THEN
        kind := 'progress';
    ELSIF NEW.name IS DISTINCT FROM OLD.name THEN
        kind := 'renamed';
    ELSE
        RETURN NULL;
    END IF;
    PERFORM pg_notify('user_tasks_events', json_build_object(
        'kind', kind, 'status', NEW.uuid, 'user', NEW.user_id, 'state', NEW.state,
        'completed_steps', NEW.completed_steps, 'total_steps', NEW.total_steps, 'modified', NEW.modified)::text);
    RETURN NULL;
END
$$;

-- For any table of records belonging to a status (a status_id and a uuid column): the event's
-- kind is the trigger's argument, and names the record's uuid.
CREATE OR REPLACE FUNCTION user_tasks_notify_status_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner record;
BEGIN
    SELECT uuid, user_id INTO owner FROM user_tasks_usertaskstatus WHERE id = NEW.status_id;
    IF FOUND THEN
        PERFORM pg_notify('user_tasks_events', json_build_object(
            'kind', TG_ARGV[0], 'status', owner.uuid, 'user', owner.user_id,
            TG_ARGV[0], NEW.uuid, 'name', to_jsonb(NEW) -> 'name')::text);
    END IF;
    RETURN NULL;
END
$$;

-- A task's message: its level and text travel with the event (a message is at most 1,000
-- characters, well inside pg_notify's 8,000 bytes).
CREATE OR REPLACE FUNCTION user_tasks_notify_message() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner record;
BEGIN
    SELECT uuid, user_id INTO owner FROM user_tasks_usertaskstatus WHERE id = NEW.status_id;
    IF FOUND THEN
        PERFORM pg_notify('user_tasks_events', json_build_object(
            'kind', 'message', 'status', owner.uuid, 'user', owner.user_id,
            'message', NEW.id, 'level', NEW.level, 'text', NEW.text, 'created', NEW.created)::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER user_tasks_status_events AFTER INSERT OR UPDATE OR DELETE ON user_tasks_usertaskstatus
    FOR EACH ROW EXECUTE FUNCTION user_tasks_notify_status();
CREATE TRIGGER user_tasks_artifact_events AFTER INSERT ON user_tasks_usertaskartifact
    FOR EACH ROW EXECUTE FUNCTION user_tasks_notify_status_record('artifact');
CREATE TRIGGER user_tasks_message_events AFTER INSERT ON user_tasks_usertaskmessage
    FOR EACH ROW EXECUTE FUNCTION user_tasks_notify_message();
"""

DROP = """
DROP TRIGGER IF EXISTS user_tasks_message_events ON user_tasks_usertaskmessage;
DROP TRIGGER IF EXISTS user_tasks_artifact_events ON user_tasks_usertaskartifact;
DROP TRIGGER IF EXISTS user_tasks_status_events ON user_tasks_usertaskstatus;
DROP FUNCTION IF EXISTS user_tasks_notify_message();
DROP FUNCTION IF EXISTS user_tasks_notify_status_record();
DROP FUNCTION IF EXISTS user_tasks_notify_status();
"""


def _on_postgresql(sql: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("user_tasks", "0010_rerun_and_messages"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
