"""Start-up against a fresh or restarting broker: which errors are retried, and until when."""

import pytest
from confluent_kafka import KafkaError, KafkaException

from streams.topology import TopicNotReady, is_retriable, with_retries


def kafka_error(code: int) -> KafkaException:
    return KafkaException(KafkaError(code))


def test_coordinator_and_metadata_errors_are_retried_others_are_not():
    assert is_retriable(kafka_error(KafkaError.NOT_COORDINATOR))
    assert is_retriable(kafka_error(KafkaError.COORDINATOR_LOAD_IN_PROGRESS))
    assert is_retriable(kafka_error(KafkaError.LEADER_NOT_AVAILABLE))
    assert not is_retriable(kafka_error(KafkaError.TOPIC_AUTHORIZATION_FAILED))


def test_retries_until_it_works():
    answers = [kafka_error(KafkaError.NOT_COORDINATOR), TopicNotReady("t"), 42]

    def attempt():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert with_retries("x", attempt, deadline_s=5, pause_s=0) == 42


def test_gives_up_at_the_deadline_and_at_once_on_a_final_error():
    def coordinator_moving():
        raise kafka_error(KafkaError.NOT_COORDINATOR)

    with pytest.raises(KafkaException):
        with_retries("x", coordinator_moving, deadline_s=0.05, pause_s=0.01)
    calls = []

    def denied():
        calls.append(1)
        raise kafka_error(KafkaError.TOPIC_AUTHORIZATION_FAILED)

    with pytest.raises(KafkaException):
        with_retries("x", denied, deadline_s=5, pause_s=0)
    assert calls == [1]
