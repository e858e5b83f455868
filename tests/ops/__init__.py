"""Operations: several instances, migrations, service integration, health, faults, retention."""
